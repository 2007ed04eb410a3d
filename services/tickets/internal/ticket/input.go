package ticket

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/ticketing/common/errs"
)

// The contract's messages for a bad title or price, one per rule
// (CONTRACT.md §2 tickets). PUT words a missing or non-positive price
// differently from POST, as the Node edition does.
const (
	MsgTitle          = "Title is required"
	MsgTitleTooLong   = "Title must be at most 200 characters"
	MsgPriceCreate    = "Price must be greater than 0"
	MsgPriceEdit      = "Price must be provided and must be greater than 0"
	MsgPriceNotNumber = "Price must be a number"
	MsgPriceTooHigh   = "Price must be at most 1,000,000"
	MsgPriceDecimals  = "Price must have at most 2 decimals"
)

// Limits on what a ticket may hold.
const (
	MaxTitleLength = 200 // characters, after trimming
	MaxPrice       = 1_000_000
)

// Draft is a checked title and price, ready to be stored.
type Draft struct {
	Title string
	Price float64
}

// ParseNew checks the title and price of a new ticket, as sent in JSON
// (either may be missing: nil). Every failed field is reported at once,
// each with the message of the rule it broke.
func ParseNew(title, price json.RawMessage) (Draft, error) {
	return parseDraft(title, price, MsgPriceCreate)
}

// ParseEdit checks the title and price of an edit, as sent in JSON.
func ParseEdit(title, price json.RawMessage) (Draft, error) {
	return parseDraft(title, price, MsgPriceEdit)
}

func parseDraft(title, price json.RawMessage, priceMissing string) (Draft, error) {
	var (
		d      Draft
		err    error
		fields []errs.FieldError
	)
	if d.Title, err = ParseTitle(title); err != nil {
		fields = append(fields, errs.FieldError{Field: "title", Message: titleMessage(err)})
	}
	if d.Price, err = ParsePrice(price); err != nil {
		fields = append(fields, errs.FieldError{Field: "price", Message: priceMessage(err, priceMissing)})
	}
	if len(fields) > 0 {
		return Draft{}, errs.Validation(fields...)
	}
	return d, nil
}

// Why a title or price was refused; the caller hears the contract's message
// for each (titleMessage, priceMessage).
var (
	errNotString  = errors.New("not a JSON string")
	errBlank      = errors.New("blank")
	errTooLong    = errors.New("too long")
	errMissing    = errors.New("missing")
	errNotNumeric = errors.New("not a number or a numeric string")
	errNotAbove0  = errors.New("not greater than 0")
	errTooHigh    = errors.New("above the maximum")
	errDecimals   = errors.New("more than 2 decimals")
)

func titleMessage(err error) string {
	if errors.Is(err, errTooLong) {
		return MsgTitleTooLong
	}
	return MsgTitle
}

// priceMessage names the price rule err broke; a missing or non-positive
// price says missing, which POST and PUT word differently.
func priceMessage(err error, missing string) string {
	switch {
	case errors.Is(err, errNotNumeric):
		return MsgPriceNotNumber
	case errors.Is(err, errTooHigh):
		return MsgPriceTooHigh
	case errors.Is(err, errDecimals):
		return MsgPriceDecimals
	}
	return missing // errMissing, errNotAbove0
}

// ParseTitle accepts a JSON string that is not blank and at most
// MaxTitleLength characters once trimmed, and returns it trimmed.
func ParseTitle(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return "", errNotString
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errBlank
	case utf8.RuneCountInString(s) > MaxTitleLength:
		return "", errTooLong
	}
	return s, nil
}

// decimalText is a plain decimal number: the JSON number grammar, loosened
// for strings as the Node edition's isFloat is ("+5", ".5", "5."), with an
// exponent of at most three digits so nothing parses into a huge number.
var decimalText = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$`)

// maxPriceText bounds the text parsed: a valid price needs about ten
// characters, and big.Rat on a megabyte of digits would be slow.
const maxPriceText = 40

// ParsePrice accepts a JSON number or a string holding one ("20.00", the
// client's form), greater than 0, at most MaxPrice, with at most two
// decimals. The price is checked exactly, in decimal, before it becomes a
// float64, so 1.001 is refused rather than rounded.
func ParsePrice(raw json.RawMessage) (float64, error) {
	raw = bytes.TrimSpace(raw)
	var text string
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return 0, errMissing
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, errNotNumeric
		}
		// An empty form field is a price not given, not a malformed one.
		if text = strings.TrimSpace(text); text == "" {
			return 0, errMissing
		}
	default:
		// A JSON number is its own text; anything else (true, null, {},
		// []) fails the pattern below.
		text = string(raw)
	}
	if len(text) > maxPriceText || !decimalText.MatchString(text) {
		return 0, errNotNumeric
	}
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return 0, errNotNumeric
	}
	switch {
	case r.Sign() <= 0:
		return 0, errNotAbove0
	case r.Cmp(big.NewRat(MaxPrice, 1)) > 0:
		return 0, errTooHigh
	case !new(big.Rat).Mul(r, big.NewRat(100, 1)).IsInt():
		return 0, errDecimals
	}
	f, _ := r.Float64()
	return f, nil
}
