package mongox

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Internal tests: redaction is not exported, and testkit (which imports this
// package) is not needed here.

func TestRedactURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		uri  string
		want string
	}{
		{"mongodb://127.0.0.1:27017/?maxPoolSize=1", "mongodb://127.0.0.1:27017/"},
		{"mongodb://tickets-mongo-srv:27017/tickets", "mongodb://tickets-mongo-srv:27017/"},
		{"mongodb://user:s3cret@h1:1,h2:2/db?authSource=admin", "mongodb://user:xxxxx@h1:1,h2:2/"},
		{"mongodb://user@h1/db", "mongodb://user@h1/"},
		{"mongodb+srv://u:p%40ss@cluster.example/db", "mongodb+srv://u:xxxxx@cluster.example/"},
		{"mongodb://u:pa/ss?w@h1:1/db", "mongodb://u:xxxxx@h1:1/"},
		{"mongodb://u:pw@h/?tlsCertificateKeyFilePassword=k@y", "mongodb://u:xxxxx@y/"},
		{"not a uri", "<malformed mongo URI>"},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			assert.Equal(t, tt.want, redactURI(tt.uri))
		})
	}
}

func TestConnectErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		uri  string
	}{
		{"malformed option", "mongodb://admin:hunter2@127.0.0.1:1/?maxPoolSize=hunter2"},
		{"bad escape in password", "mongodb://admin:hunter2%zz@127.0.0.1:1/"},
		{"unreachable server", "mongodb://admin:hunter2@127.0.0.1:1/?serverSelectionTimeoutMS=200&connectTimeoutMS=200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			client, err := Connect(context.Background(), tt.uri, 2*time.Second)
			require.Error(t, err)
			assert.Nil(t, client)
			assert.NotContains(t, err.Error(), "hunter2")
			assert.Contains(t, err.Error(), "127.0.0.1:1", "the error says which server")
			assert.Less(t, time.Since(start), 10*time.Second, "the timeout bounds the attempt")
		})
	}
}

func TestConnectAndPing(t *testing.T) {
	t.Parallel()
	uri := os.Getenv("TEST_MONGO_URI")
	if uri == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_MONGO_URI not set under CI=true; run via make test")
		}
		t.Skip("TEST_MONGO_URI not set; run via make test")
	}
	ctx := context.Background()
	client, err := Connect(ctx, uri, 10*time.Second)
	require.NoError(t, err)
	ready := Ping(client)
	require.NoError(t, ready(ctx))

	require.NoError(t, client.Disconnect(ctx))
	err = ready(ctx)
	require.Error(t, err, "a disconnected client is not ready")
}

func TestConnectRejectsNonPositiveTimeout(t *testing.T) {
	t.Parallel()
	_, err := Connect(context.Background(), "mongodb://127.0.0.1:1/", 0)
	require.Error(t, err)
}
