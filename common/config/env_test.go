package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/common/config"
)

func TestEnvReportsEveryProblem(t *testing.T) {
	vars := map[string]string{"PORT": "x", "TTL": "-5m", "SECURE": "maybe"}
	e := config.New(func(k string) string { return vars[k] })
	e.Required("JWT_KEY")
	e.Required("MONGO_URI")
	e.Int("PORT", 3000, 1, 65535)
	e.Duration("TTL", time.Hour)
	e.Bool("SECURE", false)
	err := e.Err()
	require.Error(t, err)
	for _, want := range []string{"JWT_KEY is not set", "MONGO_URI is not set", `PORT="x"`, `TTL="-5m"`, `SECURE="maybe"`} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestEnvValues(t *testing.T) {
	vars := map[string]string{"A": " a ", "N": "42", "D": "90s", "S": "15", "B": "true"}
	e := config.New(func(k string) string { return vars[k] })
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"required trims", e.Required("A"), "a"},
		{"string default", e.String("MISSING", "def"), "def"},
		{"int", e.Int("N", 1, 0, 100), 42},
		{"int default", e.Int("MISSING", 7, 0, 100), 7},
		{"duration", e.Duration("D", time.Hour), 90 * time.Second},
		{"bare seconds", e.Duration("S", time.Hour), 15 * time.Second},
		{"duration default", e.Duration("MISSING", time.Hour), time.Hour},
		{"bool", e.Bool("B", false), true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.got, tt.name)
	}
	assert.NoError(t, e.Err())
}

// A caller's own problem is reported with the readers' problems, in order.
func TestProblemJoinsTheReport(t *testing.T) {
	env := config.New(func(name string) string { return map[string]string{"PORT": "x"}[name] })
	env.Int("PORT", 3000, 1, 65535)
	env.Problem("REDIS_URL is not a redis URL: %s", "no host")
	assert.EqualError(t, env.Err(), `configuration: PORT="x" is not a whole number from 1 to 65535; REDIS_URL is not a redis URL: no host`)
}
