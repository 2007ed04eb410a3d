package security

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/testkit"
	payments "github.com/ticketing/services/payments/app"
)

// FuzzPaymentsRoutes sends POST /api/payments arbitrary bodies, signed in
// or not. Charges go to stripe-mock (TEST_STRIPE_API_BASE).
func FuzzPaymentsRoutes(f *testing.F) {
	base := os.Getenv("TEST_STRIPE_API_BASE")
	if base == "" {
		if os.Getenv("CI") == "true" {
			f.Fatal("TEST_STRIPE_API_BASE not set under CI=true; run via make test")
		}
		f.Skip("TEST_STRIPE_API_BASE not set; run via make test")
	}
	u := newFuzzUser(f)
	db := testkit.MongoDB(f)
	a, err := payments.New(context.Background(), payments.Deps{
		DB: db, Events: testkit.NATS(f).Connect(f), Sessions: u.sessions,
		Stripe: payments.NewStripeClient(payments.StripeConfig{Key: "sk_test_123", APIBase: base, HTTPTimeout: 10 * time.Second}),
	})
	if err != nil {
		f.Fatal(err)
	}
	h := a.Handler()
	// An order of the caller in the replica, as order:created leaves it.
	orderID := primitive.NewObjectID()
	if _, err := db.Collection("orders").InsertOne(context.Background(), bson.M{
		"_id": orderID, "version": int64(0), "userId": u.id, "price": 20.5, "status": "created",
		"expiresAt": time.Now().Add(time.Hour).UTC(),
	}); err != nil {
		f.Fatal(err)
	}

	for i, b := range seedBodies {
		f.Add(uint8(i), []byte(b))
	}
	f.Add(uint8(0), []byte(`{"token":"tok_visa","orderId":"`+orderID.Hex()+`"}`))
	f.Add(uint8(0), []byte(`{"token":" ","orderId":"`+orderID.Hex()+`"}`))
	f.Add(uint8(0x80), []byte(`{"token":"tok_visa","orderId":"`+orderID.Hex()+`"}`))

	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		cookie := u.cookie
		if op&0x80 != 0 {
			cookie = ""
		}
		serve(t, h, fuzzRequest(http.MethodPost, "/api/payments", "", body, cookie))
	})
}
