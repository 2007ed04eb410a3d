package httpx

import (
	"encoding/json"
	"strings"
)

// TrimmedString is a request field whose surrounding white space is dropped
// before its rules are checked, as the contract says for emails, passwords
// and titles.
type TrimmedString string

func (s *TrimmedString) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = TrimmedString(strings.TrimSpace(v))
	return nil
}

// String returns the value as a plain string.
func (s TrimmedString) String() string { return string(s) }
