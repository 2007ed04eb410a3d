package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/ticketing/common/events"
	"github.com/ticketing/common/testkit"
)

const jwtKey = "payments-run-test-key"

func stripeMockBase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TEST_STRIPE_API_BASE")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_STRIPE_API_BASE not set under CI=true; run via make test")
		}
		t.Skip("TEST_STRIPE_API_BASE not set; run via make test")
	}
	return base
}

// The real run, as main calls it, on a fresh database, an in-process NATS
// server and stripe-mock: it hears order:created, charges the order, and
// publishes payment:created; it stops cleanly when its context ends.
func TestRunServesPayments(t *testing.T) {
	db := testkit.MongoDB(t)
	nats := testkit.NATS(t)
	env := map[string]string{
		"PORT":            "0",
		"MONGO_URI":       testkit.MongoURI(t, db.Name()),
		"NATS_URL":        nats.URL(),
		"NATS_CLUSTER_ID": testkit.NATSClusterID,
		"NATS_CLIENT_ID":  testkit.UniqueClientID(t),
		"JWT_KEY":         jwtKey,
		"STRIPE_KEY":      "sk_test_123",
		"STRIPE_API_BASE": stripeMockBase(t),
		"LOG_LEVEL":       "debug",
		// Read from the environment: the webhook route is on, and checks signatures.
		"STRIPE_WEBHOOK_SECRET": "whsec_run_test",
	}
	svc := testkit.RunService(t, "payments", run, env)
	url := svc.URL

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(url + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
	resp, err := http.Post(url+"/api/payments/webhook", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	hook, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "an unsigned delivery is refused")
	assert.JSONEq(t, `{"errors":[{"message":"Invalid Stripe signature"}]}`, string(hook))

	conn := nats.Connect(t)
	var mu sync.Mutex
	var created []events.PaymentCreated
	l, err := events.Listen(conn, "run-test-observer", func(_ context.Context, msg events.PaymentCreated, _ events.Meta) error {
		mu.Lock()
		defer mu.Unlock()
		created = append(created, msg)
		return nil
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Close()) })

	userID, orderID := primitive.NewObjectID().Hex(), primitive.NewObjectID().Hex()
	pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer pcancel()
	require.NoError(t, events.NewPublisher(conn).PublishEvent(pctx, events.OrderCreated{
		ID: orderID, Version: 0, Status: events.OrderStatusCreated, UserID: userID,
		ExpiresAt: time.Now().Add(15 * time.Minute),
		Ticket:    events.OrderCreatedTicket{ID: primitive.NewObjectID().Hex(), Price: 20.5},
	}))

	cookie := testkit.Cookie(t, jwtKey, userID, "buyer@test.dev")
	// pay runs inside a wait condition, on a goroutine of its own: assert, not require.
	pay := func() (int, string) {
		req, err := http.NewRequest("POST", url+"/api/payments",
			strings.NewReader(`{"token":"tok_visa","orderId":"`+orderID+`"}`))
		if !assert.NoError(t, err) {
			return 0, ""
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", cookie)
		resp, err := http.DefaultClient.Do(req)
		if !assert.NoError(t, err) {
			return 0, ""
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		assert.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	// 404 until the listener has stored the order.
	var status int
	var body string
	require.Eventually(t, func() bool {
		status, body = pay()
		return status != http.StatusNotFound
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, http.StatusCreated, status, body)
	var res struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(body), &res))

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		mu.Lock()
		defer mu.Unlock()
		if assert.Len(c, created, 1) {
			assert.Equal(c, res.ID, created[0].ID)
			assert.Equal(c, orderID, created[0].OrderID)
			assert.Regexp(c, `^ch_`, created[0].StripeID)
		}
	}, 20*time.Second, 20*time.Millisecond)

	svc.Stop()
}

func TestConfigNamesEveryMissingVariable(t *testing.T) {
	err := run(context.Background(), func(k string) string {
		switch k {
		case "SESSION_TTL":
			return "soon"
		case "STRIPE_API_BASE":
			return "localhost:12111"
		}
		return ""
	}, io.Discard)
	require.Error(t, err)
	for _, name := range []string{"MONGO_URI", "NATS_URL", "NATS_CLUSTER_ID", "NATS_CLIENT_ID", "JWT_KEY",
		"STRIPE_KEY", "SESSION_TTL", "STRIPE_API_BASE"} {
		assert.Contains(t, err.Error(), name)
	}
}
