package security

import (
	"context"
	"net/http"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/testkit"
	orders "github.com/ticketing/services/orders/app"
)

// FuzzOrdersRoutes sends the orders service's routes arbitrary bodies and
// ids, signed in or not.
func FuzzOrdersRoutes(f *testing.F) {
	u := newFuzzUser(f)
	db := testkit.MongoDB(f)
	a, err := orders.New(context.Background(), orders.Deps{DB: db, Events: testkit.NATS(f).Connect(f), Sessions: u.sessions})
	if err != nil {
		f.Fatal(err)
	}
	h := a.Handler()
	// A ticket in the replica (as ticket:created would leave it), so a
	// reservation can succeed, and the order it makes, so reads and cancels
	// reach the code past the look-up.
	ticketID := primitive.NewObjectID()
	if _, err := db.Collection("tickets").InsertOne(context.Background(), bson.M{"_id": ticketID, "title": "fuzz", "price": 5.0, "version": int64(0)}); err != nil {
		f.Fatal(err)
	}
	w := httptestDo(h, fuzzRequest(http.MethodPost, "/api/orders", "", []byte(`{"ticketId":"`+ticketID.Hex()+`"}`), u.cookie))
	if w.Code != http.StatusCreated {
		f.Fatalf("reserve the seed ticket: %d %s", w.Code, w.Body)
	}
	orderID := decodeID(f, w.Body.Bytes())

	for i, b := range seedBodies {
		f.Add(uint8(i), "", []byte(b))
	}
	f.Add(uint8(0), "", []byte(`{"ticketId":"`+ticketID.Hex()+`"}`))
	f.Add(uint8(1), "64B7F0C2A1B2C3D4E5F60718", []byte(nil))
	f.Add(uint8(2), "../tickets", []byte(nil))
	f.Add(uint8(0x83), "", []byte(nil))

	f.Fuzz(func(t *testing.T, op uint8, id string, body []byte) {
		cookie := u.cookie
		if op&0x80 != 0 {
			cookie = ""
		}
		var r *http.Request
		switch op % 4 {
		case 0:
			r = fuzzRequest(http.MethodPost, "/api/orders", "", body, cookie)
		case 1:
			r = fuzzRequest(http.MethodGet, "/api/orders/"+idFor(id, orderID), "", nil, cookie)
		case 2:
			r = fuzzRequest(http.MethodDelete, "/api/orders/"+idFor(id, orderID), "", body, cookie)
		default:
			r = fuzzRequest(http.MethodGet, "/api/orders", "", nil, cookie)
		}
		serve(t, h, r)
	})
}
