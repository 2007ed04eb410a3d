package security

import (
	"context"
	"net/http"
	"testing"

	"github.com/ticketing/common/testkit"
	tickets "github.com/ticketing/services/tickets/app"
)

// FuzzTicketsRoutes sends the tickets service's routes arbitrary bodies,
// ids and queries, signed in or not.
func FuzzTicketsRoutes(f *testing.F) {
	u := newFuzzUser(f)
	a, err := tickets.New(context.Background(), tickets.Deps{DB: testkit.MongoDB(f), Events: testkit.NATS(f).Connect(f), Sessions: u.sessions})
	if err != nil {
		f.Fatal(err)
	}
	h := a.Handler()
	// One real ticket, so edits reach the code past the look-up.
	w := httptestDo(h, fuzzRequest(http.MethodPost, "/api/tickets", "", []byte(`{"title":"fuzz","price":5}`), u.cookie))
	if w.Code != http.StatusCreated {
		f.Fatalf("create the seed ticket: %d %s", w.Code, w.Body)
	}
	ticketID := decodeID(f, w.Body.Bytes())

	for i, b := range seedBodies {
		f.Add(uint8(i), "", "", []byte(b))
	}
	f.Add(uint8(2), "zzz", "limit=abc&before=", []byte(nil))
	f.Add(uint8(3), "", "limit=1&before=64b7f0c2a1b2c3d4e5f60718", []byte(nil))
	f.Add(uint8(0x81), "%00", "", []byte(`{"title":"x","price":1}`))

	f.Fuzz(func(t *testing.T, op uint8, id, query string, body []byte) {
		cookie := u.cookie
		if op&0x80 != 0 {
			cookie = ""
		}
		var r *http.Request
		switch op % 4 {
		case 0:
			r = fuzzRequest(http.MethodPost, "/api/tickets", query, body, cookie)
		case 1:
			r = fuzzRequest(http.MethodPut, "/api/tickets/"+idFor(id, ticketID), query, body, cookie)
		case 2:
			r = fuzzRequest(http.MethodGet, "/api/tickets/"+idFor(id, ticketID), query, nil, cookie)
		default:
			r = fuzzRequest(http.MethodGet, "/api/tickets", query, nil, cookie)
		}
		serve(t, h, r)
	})
}
