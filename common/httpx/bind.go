package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"
	"github.com/go-playground/validator/v10"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/common/ids"
)

// Messages for malformed requests: the contract wants them to say what is wrong.
var (
	ErrMalformedJSON = errs.BadRequest("Request body is not valid JSON")
	ErrNotObject     = errs.BadRequest("Request body must be a JSON object")
	ErrMalformedID   = errs.BadRequest("Id in the path must be 24 hex characters")
)

// BindJSON decodes the request body into dst (a pointer to a struct) and
// checks its `binding` rules. Every failed field becomes one contract field
// error whose message is the field's `msg` tag, so each route states its
// messages next to its fields:
//
//	Email string `json:"email" binding:"required,email" msg:"Email must be valid"`
//
// A field of the wrong JSON type fails the same way as one that breaks its
// rule, and does not hide the fields after it. An empty body counts as {} so the caller hears which fields are missing.
func BindJSON(c *gin.Context, dst any) error {
	raw, err := readObject(c)
	if err != nil {
		return err
	}
	fe := &fieldErrors{seen: map[string]bool{}}
	t := reflect.TypeOf(dst).Elem()

	// Each field is decoded on its own: encoding/json stops at the first
	// field whose own UnmarshalJSON fails (TrimmedString, a price), and the
	// fields after it would then read as missing.
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return errs.Wrap(ErrMalformedJSON, err)
	}
	v := reflect.ValueOf(dst).Elem()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name := jsonName(sf)
		value, ok := obj[name]
		if !ok || !sf.IsExported() || name == "-" {
			continue
		}
		if err := json.Unmarshal(value, v.Field(i).Addr().Interface()); err != nil {
			fe.add(name, message(sf))
		}
	}

	if err := binding.Validator.ValidateStruct(dst); err != nil {
		var verrs validator.ValidationErrors
		if !errors.As(err, &verrs) {
			return errs.Wrap(errs.BadRequest("Request body is invalid"), err)
		}
		for _, ve := range verrs {
			sf, ok := t.FieldByName(ve.StructField())
			if !ok {
				fe.add(ve.Field(), ve.Field()+" is invalid")
				continue
			}
			fe.add(jsonName(sf), message(sf))
		}
	}
	if len(fe.fields) > 0 {
		return errs.Validation(fe.fields...)
	}
	return nil
}

// readObject reads the body and checks it is a JSON object; an empty body
// counts as {}.
func readObject(c *gin.Context) ([]byte, error) {
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		if isTooLarge(err) {
			return nil, errs.ErrTooLarge
		}
		return nil, errs.Wrap(errs.BadRequest("Request body could not be read"), err)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return []byte("{}"), nil
	}
	if raw[0] != '{' {
		if json.Valid(raw) {
			return nil, ErrNotObject
		}
		return nil, ErrMalformedJSON
	}
	return raw, nil
}

// fieldErrors collects one error per field, the first said of it.
type fieldErrors struct {
	fields []errs.FieldError
	seen   map[string]bool
}

func (f *fieldErrors) add(jsonName, msg string) {
	if !f.seen[jsonName] {
		f.seen[jsonName] = true
		f.fields = append(f.fields, errs.FieldError{Message: msg, Field: jsonName})
	}
}

func jsonName(sf reflect.StructField) string {
	name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
	if name == "" {
		return sf.Name
	}
	return name
}

func message(sf reflect.StructField) string {
	if m := sf.Tag.Get("msg"); m != "" {
		return m
	}
	return jsonName(sf) + " is invalid"
}

// ParamID returns the path parameter name if it is a 24-hex id, else a 400
// that says so (an id that cannot exist is the caller's mistake, not a 404).
func ParamID(c *gin.Context, name string) (string, error) {
	id := c.Param(name)
	if !ids.IsObjectID(id) {
		return "", ErrMalformedID
	}
	return id, nil
}
