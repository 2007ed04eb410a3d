package ticket

import (
	"strconv"
	"strings"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/ids"
)

// Page limits for the list of tickets for sale.
const (
	DefaultPageSize = 100
	MaxPageSize     = 500
)

// Page says which part of the list of tickets for sale to return: at most
// Limit tickets, newest first, older than the ticket Before when it is set.
type Page struct {
	Limit  int
	Before string
}

// Messages for a bad page in the query string.
const (
	MsgLimit  = "limit must be a whole number from 1 to 500"
	MsgBefore = "before must be the 24-hex id of a ticket"
)

// ParsePage checks the list's query parameters as sent (empty when absent).
func ParsePage(limit, before string) (Page, error) {
	p := Page{Limit: DefaultPageSize, Before: strings.TrimSpace(before)}
	var fields []errs.FieldError
	if limit = strings.TrimSpace(limit); limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxPageSize {
			fields = append(fields, errs.FieldError{Field: "limit", Message: MsgLimit})
		}
		p.Limit = n
	}
	if p.Before != "" && !ids.IsObjectID(p.Before) {
		fields = append(fields, errs.FieldError{Field: "before", Message: MsgBefore})
	}
	if len(fields) > 0 {
		return Page{}, errs.Validation(fields...)
	}
	p.Before = strings.ToLower(p.Before)
	return p, nil
}
