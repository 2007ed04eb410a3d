package ticket_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/errs"
	"github.com/ticketing/services/tickets/internal/ticket"
)

func TestParsePrice(t *testing.T) {
	tests := []struct {
		raw  string // the JSON value as sent; "" means the field is missing
		want float64
		ok   bool
	}{
		{`"20.00"`, 20, true},
		{`20`, 20, true},
		{`20.5`, 20.5, true},
		{`"20.5"`, 20.5, true},
		{`19.99`, 19.99, true},
		{`" 15 "`, 15, true},
		{`"0.01"`, 0.01, true},
		{`1000000`, 1_000_000, true},
		{`"1000000.00"`, 1_000_000, true},
		{`1e3`, 1000, true},
		{`2.5e-1`, 0.25, true},
		{`"+5"`, 5, true},
		{`".5"`, 0.5, true},
		{`"5."`, 5, true},
		{`20.000`, 20, true},
		{`"abc"`, 0, false},
		{`{}`, 0, false},
		{`[]`, 0, false},
		{`[20]`, 0, false},
		{`true`, 0, false},
		{`null`, 0, false},
		{``, 0, false},
		{`""`, 0, false},
		{`"  "`, 0, false},
		{`-1`, 0, false},
		{`"-1"`, 0, false},
		{`0`, 0, false},
		{`"0.00"`, 0, false},
		{`-0`, 0, false},
		{`1.001`, 0, false},
		{`"0.001"`, 0, false},
		{`1000001`, 0, false},
		{`1000000.01`, 0, false},
		{`1e7`, 0, false},
		{`1e999`, 0, false},
		{`1e100000`, 0, false},
		{`"NaN"`, 0, false},
		{`"Infinity"`, 0, false},
		{`"0x10"`, 0, false},
		{`"1/2"`, 0, false},
		{`"20,00"`, 0, false},
		{`"20 00"`, 0, false},
		{`"."`, 0, false},
		{`"` + strings.Repeat("1", 100000) + `"`, 0, false},
		{`"5` + strings.Repeat("0", 60) + `"`, 0, false},
	}
	for _, tt := range tests {
		name := tt.raw
		if len(name) > 30 {
			name = name[:30] + "..."
		}
		t.Run(name, func(t *testing.T) {
			var raw json.RawMessage
			if tt.raw != "" {
				raw = json.RawMessage(tt.raw)
			}
			got, err := ticket.ParsePrice(raw)
			if !tt.ok {
				assert.Error(t, err, "got %v", got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseTitle(t *testing.T) {
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"concert"`, "concert", true},
		{`"  concert  "`, "concert", true},
		{`"` + strings.Repeat("é", 200) + `"`, strings.Repeat("é", 200), true},
		{`"  ` + strings.Repeat("a", 200) + `  "`, strings.Repeat("a", 200), true},
		{`"` + strings.Repeat("a", 201) + `"`, "", false},
		{`""`, "", false},
		{`"   "`, "", false},
		{`"\t\n"`, "", false},
		{`5`, "", false},
		{`null`, "", false},
		{`{}`, "", false},
		{`["a"]`, "", false},
		{``, "", false},
	}
	for _, tt := range tests {
		name := tt.raw
		if len(name) > 30 {
			name = name[:30] + "..."
		}
		t.Run(name, func(t *testing.T) {
			var raw json.RawMessage
			if tt.raw != "" {
				raw = json.RawMessage(tt.raw)
			}
			got, err := ticket.ParseTitle(raw)
			if !tt.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// ParseNew and ParseEdit report every bad field at once, with the message
// each route uses.
func TestParseDraftMessages(t *testing.T) {
	type parse func(title, price json.RawMessage) (ticket.Draft, error)
	type draftCase struct {
		name   string
		parse  parse
		title  string
		price  string
		fields []errs.FieldError
	}
	tests := []draftCase{
		{"new, both bad", ticket.ParseNew, `""`, `0`, []errs.FieldError{
			{Field: "title", Message: "Title is required"}, {Field: "price", Message: "Price must be greater than 0"}}},
		{"edit, both missing", ticket.ParseEdit, ``, ``, []errs.FieldError{
			{Field: "title", Message: "Title is required"}, {Field: "price", Message: "Price must be provided and must be greater than 0"}}},
		{"edit, title only", ticket.ParseEdit, `7`, `10`, []errs.FieldError{
			{Field: "title", Message: "Title is required"}}},
	}
	// One message per rule (CONTRACT.md §2 tickets), on POST and PUT.
	rules := []struct {
		name, title, price string
		newMsg, editMsg    string // the price or title message each route gives
		field              string
	}{
		{"three decimals", `"ok"`, `10.999`, "Price must have at most 2 decimals", "Price must have at most 2 decimals", "price"},
		{"three decimals as text", `"ok"`, `"12.345"`, "Price must have at most 2 decimals", "Price must have at most 2 decimals", "price"},
		{"decimal comma", `"ok"`, `"5,50"`, "Price must be a number", "Price must be a number", "price"},
		{"words", `"ok"`, `"abc"`, "Price must be a number", "Price must be a number", "price"},
		{"an object", `"ok"`, `{}`, "Price must be a number", "Price must be a number", "price"},
		{"a billion", `"ok"`, `1000000000`, "Price must be at most 1,000,000", "Price must be at most 1,000,000", "price"},
		{"zero", `"ok"`, `0`, "Price must be greater than 0", "Price must be provided and must be greater than 0", "price"},
		{"negative", `"ok"`, `-1`, "Price must be greater than 0", "Price must be provided and must be greater than 0", "price"},
		{"empty text", `"ok"`, `""`, "Price must be greater than 0", "Price must be provided and must be greater than 0", "price"},
		{"null", `"ok"`, `null`, "Price must be greater than 0", "Price must be provided and must be greater than 0", "price"},
		{"300-character title", `"` + strings.Repeat("a", 300) + `"`, `10`, "Title must be at most 200 characters", "Title must be at most 200 characters", "title"},
		{"blank title", `"   "`, `10`, "Title is required", "Title is required", "title"},
	}
	for _, r := range rules {
		tests = append(tests,
			draftCase{"new, " + r.name, ticket.ParseNew, r.title, r.price, []errs.FieldError{{Field: r.field, Message: r.newMsg}}},
			draftCase{"edit, " + r.name, ticket.ParseEdit, r.title, r.price, []errs.FieldError{{Field: r.field, Message: r.editMsg}}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var title, price json.RawMessage
			if tt.title != "" {
				title = json.RawMessage(tt.title)
			}
			if tt.price != "" {
				price = json.RawMessage(tt.price)
			}
			_, err := tt.parse(title, price)
			require.Error(t, err)
			status, body := errs.Response(err)
			assert.Equal(t, 400, status)
			assert.Equal(t, tt.fields, body.Errors)
		})
	}

	d, err := ticket.ParseNew(json.RawMessage(`" concert "`), json.RawMessage(`"20.00"`))
	require.NoError(t, err)
	assert.Equal(t, ticket.Draft{Title: "concert", Price: 20}, d)
}

func TestParsePage(t *testing.T) {
	const id = "64b7f0c2a1b2c3d4e5f60718"
	tests := []struct {
		name           string
		limit, before  string
		want           ticket.Page
		badLimit, badB bool
	}{
		{"defaults", "", "", ticket.Page{Limit: 100}, false, false},
		{"limit and cursor", "20", id, ticket.Page{Limit: 20, Before: id}, false, false},
		{"upper case cursor", "1", strings.ToUpper(id), ticket.Page{Limit: 1, Before: id}, false, false},
		{"max", "500", "", ticket.Page{Limit: 500}, false, false},
		{"over max", "501", "", ticket.Page{}, true, false},
		{"zero", "0", "", ticket.Page{}, true, false},
		{"negative", "-5", "", ticket.Page{}, true, false},
		{"not a number", "ten", "", ticket.Page{}, true, false},
		{"fraction", "1.5", "", ticket.Page{}, true, false},
		{"huge", "99999999999999999999999", "", ticket.Page{}, true, false},
		{"short cursor", "", "abc", ticket.Page{}, false, true},
		{"not hex cursor", "", "zzzzzzzzzzzzzzzzzzzzzzzz", ticket.Page{}, false, true},
		{"both bad", "x", "y", ticket.Page{}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ticket.ParsePage(tt.limit, tt.before)
			if !tt.badLimit && !tt.badB {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			require.Error(t, err)
			status, body := errs.Response(err)
			assert.Equal(t, 400, status)
			var want []errs.FieldError
			if tt.badLimit {
				want = append(want, errs.FieldError{Field: "limit", Message: ticket.MsgLimit})
			}
			if tt.badB {
				want = append(want, errs.FieldError{Field: "before", Message: ticket.MsgBefore})
			}
			assert.Equal(t, want, body.Errors)
		})
	}
}
