package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
	"github.com/ticketing/services/tickets/app"
)

const (
	notAuthorized = `{"errors":[{"message":"Not authorized"}]}`
	notFound      = `{"errors":[{"message":"Not Found"}]}`
	badID         = `{"errors":[{"message":"Id in the path must be 24 hex characters"}]}`
	titleMsg      = `{"message":"Title is required","field":"title"}`
	priceNew      = `{"message":"Price must be greater than 0","field":"price"}`
	priceEdit     = `{"message":"Price must be provided and must be greater than 0","field":"price"}`
	titleTooLong  = `{"message":"Title must be at most 200 characters","field":"title"}`
	priceNaN      = `{"message":"Price must be a number","field":"price"}`
	priceDecimals = `{"message":"Price must have at most 2 decimals","field":"price"}`
	priceTooHigh  = `{"message":"Price must be at most 1,000,000","field":"price"}`
)

func errBody(entries ...string) string { return `{"errors":[` + strings.Join(entries, ",") + `]}` }

func TestCreateTicket(t *testing.T) {
	s := startService(t)
	seller := newUser(t)

	tests := []struct {
		name  string
		body  string
		title string
		price float64
	}{
		{"price as the client sends it", `{"title":"concert","price":"20.00"}`, "concert", 20},
		{"price as a number, title trimmed", `{"title":"  opera  ","price":20.5}`, "opera", 20.5},
		{"top price", `{"title":"final","price":1000000}`, "final", 1_000_000},
		{"two decimals", `{"title":"cheap","price":"0.01"}`, "cheap", 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, seller, "POST", "/api/tickets", tt.body)
			require.Equal(t, http.StatusCreated, r.status, r.body)
			tk := decode[ticketJSON](t, r)
			assert.Regexp(t, `^[0-9a-f]{24}$`, tk.ID)
			assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"title":%q,"price":%v,"userId":%q,"version":0,"status":"available"}`, tk.ID, tt.title, tt.price, seller.id), r.body,
				"exactly the contract's Ticket, no orderId while for sale")

			require.EventuallyWithT(t, func(c *assert.CollectT) {
				assert.Equal(c, []events.TicketCreated{{ID: tk.ID, Version: 0, Title: tt.title, Price: tt.price, UserID: seller.id}}, s.createdOf(tk.ID))
			}, waitFor, tick, "ticket:created is published once")
		})
	}
}

func TestCreateTicketRefusals(t *testing.T) {
	s := startService(t)
	seller := newUser(t)
	forged := user{cookie: "session=" + strings.Repeat("A", 40)}
	tests := []struct {
		name   string
		u      user
		body   string
		status int
		want   string
	}{
		{"anonymous", user{}, `{"title":"concert","price":10}`, 401, notAuthorized},
		{"anonymous with a bad body: auth first", user{}, `{"title":"","price":-1}`, 401, notAuthorized},
		{"anonymous with malformed json", user{}, `{"title":`, 401, notAuthorized},
		{"garbled session", forged, `{"title":"concert","price":10}`, 401, notAuthorized},
		{"empty body", seller, ``, 400, errBody(titleMsg, priceNew)},
		{"empty object", seller, `{}`, 400, errBody(titleMsg, priceNew)},
		{"blank title", seller, `{"title":"   ","price":10}`, 400, errBody(titleMsg)},
		{"title not a string", seller, `{"title":5,"price":10}`, 400, errBody(titleMsg)},
		{"title over 200 characters", seller, `{"title":"` + strings.Repeat("x", 201) + `","price":10}`, 400, errBody(titleTooLong)},
		{"price missing", seller, `{"title":"concert"}`, 400, errBody(priceNew)},
		{"price abc", seller, `{"title":"concert","price":"abc"}`, 400, errBody(priceNaN)},
		{"price object", seller, `{"title":"concert","price":{}}`, 400, errBody(priceNaN)},
		{"price negative", seller, `{"title":"concert","price":-1}`, 400, errBody(priceNew)},
		{"price zero", seller, `{"title":"concert","price":0}`, 400, errBody(priceNew)},
		{"price three decimals", seller, `{"title":"concert","price":1.001}`, 400, errBody(priceDecimals)},
		{"price over a million", seller, `{"title":"concert","price":1000001}`, 400, errBody(priceTooHigh)},
		{"price with a decimal comma", seller, `{"title":"concert","price":"5,50"}`, 400, errBody(priceNaN)},
		{"every field's own rule at once", seller, `{"title":"` + strings.Repeat("x", 300) + `","price":10.999}`, 400, errBody(titleTooLong, priceDecimals)},
		{"price null", seller, `{"title":"concert","price":null}`, 400, errBody(priceNew)},
		{"malformed json", seller, `{"title":`, 400, `{"errors":[{"message":"Request body is not valid JSON"}]}`},
		{"not an object", seller, `["concert",10]`, 400, `{"errors":[{"message":"Request body must be a JSON object"}]}`},
		{"2 MiB body", seller, `{"title":"` + strings.Repeat("a", 2<<20) + `","price":10}`, 413, `{"errors":[{"message":"Request body is larger than 1 MiB"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, tt.u, "POST", "/api/tickets", tt.body)
			assert.Equal(t, tt.status, r.status, r.body)
			assert.JSONEq(t, tt.want, r.body)
		})
	}
	r := s.do(t, user{}, "GET", "/api/tickets", "")
	assert.JSONEq(t, `[]`, r.body, "no refusal stored anything")
}

func TestGetTicket(t *testing.T) {
	s := startService(t)
	seller := newUser(t)
	forSale := s.create(t, seller, "concert", 20)
	held := s.create(t, seller, "opera", 35.5)
	order := s.reserve(t, held)

	tests := []struct {
		name   string
		path   string
		status int
		want   string
	}{
		{"for sale", "/api/tickets/" + forSale.ID, 200,
			fmt.Sprintf(`{"id":%q,"title":"concert","price":20,"userId":%q,"version":0,"status":"available"}`, forSale.ID, seller.id)},
		{"reserved, with its order", "/api/tickets/" + held.ID, 200,
			fmt.Sprintf(`{"id":%q,"title":"opera","price":35.5,"userId":%q,"version":1,"orderId":%q,"status":"reserved"}`, held.ID, seller.id, order)},
		{"upper-case id", "/api/tickets/" + strings.ToUpper(forSale.ID), 200,
			fmt.Sprintf(`{"id":%q,"title":"concert","price":20,"userId":%q,"version":0,"status":"available"}`, forSale.ID, seller.id)},
		{"unknown", "/api/tickets/" + primitive.NewObjectID().Hex(), 404, notFound},
		{"malformed id", "/api/tickets/not-an-id", 400, badID},
		{"23 hex characters", "/api/tickets/" + forSale.ID[:23], 400, badID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, user{}, "GET", tt.path, "")
			assert.Equal(t, tt.status, r.status, r.body)
			assert.JSONEq(t, tt.want, r.body)
		})
	}
}

func TestListTickets(t *testing.T) {
	s := startService(t)
	seller := newUser(t)
	var all []ticketJSON // oldest first
	for i := range 6 {
		all = append(all, s.create(t, seller, fmt.Sprintf("ticket %d", i), float64(10+i)))
	}
	s.reserve(t, all[1])
	s.reserve(t, all[4])
	ids := func(ts []ticketJSON) []string {
		out := []string{}
		for _, tk := range ts {
			out = append(out, tk.ID)
		}
		return out
	}

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"for sale, newest first", "", []string{all[5].ID, all[3].ID, all[2].ID, all[0].ID}},
		{"limit", "?limit=2", []string{all[5].ID, all[3].ID}},
		{"next page", "?limit=2&before=" + all[3].ID, []string{all[2].ID, all[0].ID}},
		{"cursor on a reserved ticket", "?before=" + all[4].ID, []string{all[3].ID, all[2].ID, all[0].ID}},
		{"past the end", "?before=" + all[0].ID, []string{}},
		{"max limit", "?limit=500", []string{all[5].ID, all[3].ID, all[2].ID, all[0].ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, user{}, "GET", "/api/tickets"+tt.query, "")
			require.Equal(t, 200, r.status, r.body)
			got := decode[[]ticketJSON](t, r)
			assert.Equal(t, tt.want, ids(got))
			for _, tk := range got {
				assert.Nil(t, tk.OrderID)
			}
		})
	}

	r := s.do(t, user{}, "GET", "/api/tickets?limit=1", "")
	assert.JSONEq(t, fmt.Sprintf(`[{"id":%q,"title":"ticket 5","price":15,"userId":%q,"version":0,"status":"available"}]`, all[5].ID, seller.id), r.body)

	limitMsg := `{"message":"limit must be a whole number from 1 to 500","field":"limit"}`
	beforeMsg := `{"message":"before must be the 24-hex id of a ticket","field":"before"}`
	refusals := []struct {
		query string
		want  string
	}{
		{"?limit=0", errBody(limitMsg)},
		{"?limit=501", errBody(limitMsg)},
		{"?limit=-1", errBody(limitMsg)},
		{"?limit=ten", errBody(limitMsg)},
		{"?before=abc", errBody(beforeMsg)},
		{"?before=" + strings.Repeat("z", 24), errBody(beforeMsg)},
		{"?limit=x&before=y", errBody(limitMsg, beforeMsg)},
	}
	for _, tt := range refusals {
		t.Run("refused "+tt.query, func(t *testing.T) {
			r := s.do(t, user{}, "GET", "/api/tickets"+tt.query, "")
			assert.Equal(t, 400, r.status, r.body)
			assert.JSONEq(t, tt.want, r.body)
		})
	}
}

func TestEditTicket(t *testing.T) {
	s := startService(t)
	seller := newUser(t)
	tk := s.create(t, seller, "concert", 20)

	r := s.do(t, seller, "PUT", "/api/tickets/"+tk.ID, `{"title":" concert, row A ","price":"25.50"}`)
	require.Equal(t, 200, r.status, r.body)
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"title":"concert, row A","price":25.5,"userId":%q,"version":1,"status":"available"}`, tk.ID, seller.id), r.body)
	r = s.do(t, seller, "PUT", "/api/tickets/"+tk.ID, `{"title":"concert, row A","price":25.5}`)
	require.Equal(t, 200, r.status, r.body)
	assert.Equal(t, int64(2), decode[ticketJSON](t, r).Version, "every edit is a new version, even one that changes nothing")

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []events.TicketUpdated{
			{ID: tk.ID, Version: 1, Title: "concert, row A", Price: 25.5, UserID: seller.id},
			{ID: tk.ID, Version: 2, Title: "concert, row A", Price: 25.5, UserID: seller.id},
		}, s.updatedOf(tk.ID))
	}, waitFor, tick, "one ticket:updated per edit, in order")
	got := decode[ticketJSON](t, s.do(t, user{}, "GET", "/api/tickets/"+tk.ID, ""))
	assert.Equal(t, "concert, row A", got.Title)
	assert.Equal(t, int64(2), got.Version)
}

func TestEditTicketRefusals(t *testing.T) {
	s := startService(t)
	seller, stranger := newUser(t), newUser(t)
	mine := s.create(t, seller, "concert", 20)
	held := s.create(t, seller, "opera", 30)
	s.reserve(t, held)
	unknown := primitive.NewObjectID().Hex()
	good := `{"title":"changed","price":99}`

	tests := []struct {
		name   string
		u      user
		id     string
		body   string
		status int
		want   string
	}{
		{"anonymous", user{}, mine.ID, good, 401, notAuthorized},
		{"anonymous with a bad body: auth first", user{}, mine.ID, `{"price":"abc"}`, 401, notAuthorized},
		{"anonymous, unknown ticket: auth first", user{}, unknown, good, 401, notAuthorized},
		{"malformed id", seller, "123", good, 400, badID},
		{"bad body", seller, mine.ID, `{"title":"","price":0}`, 400, errBody(titleMsg, priceEdit)},
		{"price missing", seller, mine.ID, `{"title":"changed"}`, 400, errBody(priceEdit)},
		{"price three decimals", seller, mine.ID, `{"title":"changed","price":"1.001"}`, 400, errBody(priceDecimals)},
		{"malformed json", seller, mine.ID, `{`, 400, `{"errors":[{"message":"Request body is not valid JSON"}]}`},
		{"bad body on an unknown ticket: validation before 404", seller, unknown, `{"title":""}`, 400, errBody(titleMsg, priceEdit)},
		{"unknown ticket", seller, unknown, good, 404, notFound},
		{"unknown ticket, not the owner either: 404 first", stranger, unknown, good, 404, notFound},
		{"reserved, by its owner", seller, held.ID, good, 400, `{"errors":[{"message":"Cannot edit a reserved ticket"}]}`},
		{"reserved and not the owner: reserved before owner", stranger, held.ID, good, 400, `{"errors":[{"message":"Cannot edit a reserved ticket"}]}`},
		{"not the owner", stranger, mine.ID, good, 401, notAuthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, tt.u, "PUT", "/api/tickets/"+tt.id, tt.body)
			assert.Equal(t, tt.status, r.status, r.body)
			assert.JSONEq(t, tt.want, r.body)
		})
	}

	got := decode[ticketJSON](t, s.do(t, user{}, "GET", "/api/tickets/"+mine.ID, ""))
	assert.Equal(t, "concert", got.Title, "no refusal changed the ticket")
	assert.Equal(t, int64(0), got.Version)
	assert.Empty(t, s.updatedOf(mine.ID), "and none published anything")
}

func TestUnknownRoutesAndHealth(t *testing.T) {
	s := startService(t)
	seller := newUser(t)
	tk := s.create(t, seller, "concert", 20)
	tests := []struct {
		method, path string
		status       int
		want         string
	}{
		{"PATCH", "/api/tickets/" + tk.ID, 404, notFound},
		{"GET", "/api/tickets/" + tk.ID + "/extra", 404, notFound},
		{"GET", "/api/nothing", 404, notFound},
		{"GET", "/healthz", 200, `{"status":"ok"}`},
		{"GET", "/readyz", 200, `{"status":"ready"}`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := s.do(t, seller, tt.method, tt.path, "")
			assert.Equal(t, tt.status, r.status, r.body)
			assert.JSONEq(t, tt.want, r.body)
		})
	}
	r := s.do(t, user{}, "GET", "/metrics", "")
	assert.Equal(t, 200, r.status)
	assert.Contains(t, r.body, `http_requests_total{method="POST",route="/api/tickets",status="201"} 1`)
}

func TestNewRefusesMissingDeps(t *testing.T) {
	_, err := app.New(context.Background(), app.Deps{})
	require.Error(t, err)
	for _, name := range []string{"DB", "Events", "Sessions"} {
		assert.Contains(t, err.Error(), name)
	}
}
