package scenario_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/tools/loadgen/client"
	"github.com/ticketing/tools/loadgen/scenario"
	"github.com/ticketing/tools/loadgen/stats"
)

func newEnv(t *testing.T, f *fakeAPI) (*scenario.Env, *stats.Recorder) {
	t.Helper()
	base := newFake(t, f)
	rec := stats.NewRecorder(nil)
	cl := client.New(client.SameBase(base), rec, 16, 5*time.Second)
	t.Cleanup(cl.Close)
	env := scenario.NewEnv(cl, rec, "test")
	env.Poll = 5 * time.Millisecond
	env.EventTimeout = 5 * time.Second
	return env, rec
}

func counters(rec *stats.Recorder) map[string]int {
	out := map[string]int{}
	for _, p := range rec.Phases() {
		for k, v := range p.Counters {
			out[k] += v
		}
	}
	return out
}

func lags(rec *stats.Recorder) map[string]int {
	out := map[string]int{}
	for _, p := range rec.Phases() {
		for _, l := range p.Lags {
			out[l.Name] += l.Lag.Count
		}
	}
	return out
}

func TestRaceHasOneWinnerPerTicket(t *testing.T) {
	env, rec := newEnv(t, &fakeAPI{lag: 30 * time.Millisecond})
	require.NoError(t, env.Race(context.Background(), scenario.Options{Concurrency: 3, RaceTickets: 10, RaceBuyers: 8}))
	n, problems := env.Ledger.Problems()
	assert.Zero(t, n, "%v", problems)
	failed, why := env.Ledger.Failures()
	assert.Zero(t, failed, "%v", why)
	c := counters(rec)
	assert.Equal(t, 10, c["races decided"])
	assert.Equal(t, 5, c["holds left to lapse"], "half the winners leave their hold to lapse")
	assert.Len(t, env.Ledger.Orders(), 10, "one order per ticket")
}

// The race scenario is there to catch a fleet that sells a ticket twice.
func TestRaceCatchesADoubleReservation(t *testing.T) {
	env, _ := newEnv(t, &fakeAPI{sellTwice: true})
	require.NoError(t, env.Race(context.Background(), scenario.Options{Concurrency: 2, RaceTickets: 4, RaceBuyers: 5}))
	n, problems := env.Ledger.Problems()
	require.Equal(t, 4, n, "every ticket was sold more than once")
	assert.True(t, strings.HasPrefix(problems[0], "double reservation: 5 buyers won ticket"), problems[0])
}

func TestPurchaseMeasuresTheLags(t *testing.T) {
	// The hold is long enough that a loaded machine still pays within it
	// (a payment past it counts as a lapse, as in a real run).
	env, rec := newEnv(t, &fakeAPI{lag: 20 * time.Millisecond, hold: 2 * time.Second})
	require.NoError(t, env.Purchase(context.Background(), scenario.Options{Concurrency: 2, Count: 6, AbandonEvery: 3}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assert.Zero(t, env.WaitHolds(ctx), "every abandoned hold was seen to lapse")

	c := counters(rec)
	assert.Equal(t, 6, c["orders created"])
	assert.Equal(t, 4, c["payments"])
	assert.Equal(t, 2, c["holds left to lapse"])
	l := lags(rec)
	assert.Equal(t, 6, l[scenario.LagOrderable])
	assert.Equal(t, 4, l[scenario.LagComplete])
	assert.Equal(t, 2, l[scenario.LagExpired])
	paid := 0
	for _, o := range env.Ledger.Orders() {
		if o.Paid {
			paid++
		}
	}
	assert.Equal(t, 4, paid)
	n, problems := env.Ledger.Problems()
	assert.Zero(t, n, "%v", problems)
}

func TestEditsRecordTheFinalState(t *testing.T) {
	env, rec := newEnv(t, &fakeAPI{})
	require.NoError(t, env.Edits(context.Background(), scenario.Options{Concurrency: 5}))
	ts := env.Ledger.Tickets()
	require.Len(t, ts, 5, "one sequence per flow in flight")
	for _, tk := range ts {
		assert.Equal(t, 15.0, tk.WantPrice)
		assert.Equal(t, int64(2), tk.WantVersion)
	}
	assert.Equal(t, 10, counters(rec)["tickets updated"])
}

// While a service restarts it answers 503; with RetryServerErrors a flow
// waits it out, without it the flow fails.
func TestServerErrorsAreRetriedOnlyWhenAsked(t *testing.T) {
	f := &fakeAPI{}
	env, _ := newEnv(t, f)
	f.failFirst.Store(4)
	env.RetryServerErrors = true
	require.NoError(t, env.Edits(context.Background(), scenario.Options{Concurrency: 1}))
	failed, why := env.Ledger.Failures()
	assert.Zero(t, failed, "%v", why)
	assert.Equal(t, int64(4), f.serverErrs.Load())
	for _, tk := range env.Ledger.Tickets() {
		if tk.WantPrice != 0 {
			assert.Equal(t, int64(2), tk.WantVersion, "the retried requests were the sign-up's, not an update's")
		}
	}

	f2 := &fakeAPI{}
	env2, _ := newEnv(t, f2)
	f2.failFirst.Store(1)
	err := env2.Edits(context.Background(), scenario.Options{Concurrency: 1})
	require.Error(t, err, "without retries the 503 of the sign-up ends the scenario")
	assert.Contains(t, err.Error(), "503")
}

// With a pace longer than the run, each worker starts one flow and then only
// waits; without one, the workers start flow after flow.
func TestPaceSpacesAWorkersFlows(t *testing.T) {
	tests := []struct {
		name     string
		pace     time.Duration
		wantMore bool
	}{
		{"paced", time.Hour, false},
		{"unpaced", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := newEnv(t, &fakeAPI{})
			start := time.Now()
			require.NoError(t, env.Edits(context.Background(), scenario.Options{Concurrency: 2, Duration: time.Second, Pace: tt.pace}))
			assert.Less(t, time.Since(start), 10*time.Second, "a pace never outlasts the run")
			n := len(env.Ledger.Tickets())
			if tt.wantMore {
				assert.Greater(t, n, 2)
			} else {
				assert.Equal(t, 2, n, "one flow per worker")
			}
		})
	}
}

func TestRushSellsEveryTicketOnce(t *testing.T) {
	tests := []struct {
		name                     string
		buyers, tickets, lapse   int
		wantLapsed, wantFromWait int
	}{
		// 20 % of 10 winners lapse: 2 holds, whose tickets waiting buyers take.
		{name: "crowd with lapses", buyers: 60, tickets: 10, lapse: 20, wantLapsed: 2},
		{name: "nobody lapses", buyers: 30, tickets: 5, lapse: 0},
		// Fewer buyers than tickets: what nobody reserved goes to waiting
		// (here: any) buyers after the crowd.
		{name: "more tickets than buyers", buyers: 3, tickets: 6, lapse: 0, wantFromWait: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, rec := newEnv(t, &fakeAPI{lag: 5 * time.Millisecond, hold: 300 * time.Millisecond})
			opt := scenario.Options{Rush: scenario.RushOptions{Buyers: tt.buyers, Tickets: tt.tickets, Arrival: 100 * time.Millisecond,
				LapsePercent: tt.lapse, Tries: 1, Poll: 10 * time.Millisecond}}
			require.NoError(t, env.Rush(context.Background(), opt))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			assert.Zero(t, env.WaitHolds(ctx), "every lapsed hold was seen to lapse")

			n, problems := env.Ledger.Problems()
			assert.Zero(t, n, "%v", problems)
			failed, why := env.Ledger.Failures()
			assert.Zero(t, failed, "%v", why)
			c := counters(rec)
			assert.Equal(t, tt.tickets, c["tickets sold"])
			assert.Equal(t, tt.wantLapsed, c["holds left to lapse"])
			if tt.wantFromWait > 0 {
				assert.Equal(t, tt.wantFromWait, c["tickets bought by a waiting buyer"])
			}
			l := lags(rec)
			assert.Equal(t, tt.tickets, l[scenario.LagSold], "one sale per ticket")
			assert.Equal(t, 1, l[scenario.LagAllSold], "every ticket was decided")
			assert.Equal(t, tt.wantLapsed, l[scenario.LagBackOnSale])
			paid := 0
			for _, o := range env.Ledger.Orders() {
				if o.Paid {
					paid++
				}
			}
			assert.Equal(t, tt.tickets, paid, "one paid order per ticket")
		})
	}
}

// The rush must catch a fleet that lets two buyers reserve one ticket.
func TestRushCatchesADoubleSale(t *testing.T) {
	env, _ := newEnv(t, &fakeAPI{sellTwice: true, staleView: true})
	opt := scenario.Options{Rush: scenario.RushOptions{Buyers: 20, Tickets: 2, Arrival: 10 * time.Millisecond, Tries: 1, Poll: 10 * time.Millisecond}}
	require.NoError(t, env.Rush(context.Background(), opt))
	n, problems := env.Ledger.Problems()
	// Every buyer reserves and wins; all but the first of each ticket is
	// a double sale.
	require.Equal(t, 20-2, n, "%v", problems)
	assert.True(t, strings.HasPrefix(problems[0], "double sale: ticket"), problems[0])
}

// The rush's set-up is outside its figures: the sign-ups are recorded in
// "rush set-up", the crowd in "rush".
func TestRushKeepsItsSetUpOutOfItsFigures(t *testing.T) {
	env, rec := newEnv(t, &fakeAPI{})
	rec.BeginPhase(scenario.FirstPhase(scenario.Rush))
	opt := scenario.Options{Rush: scenario.RushOptions{Buyers: 4, Tickets: 2, Tries: 1, Poll: 10 * time.Millisecond}}
	require.NoError(t, env.Rush(context.Background(), opt))
	phases := rec.Phases()
	require.Len(t, phases, 2)
	endpoints := func(i int) map[string]int {
		out := map[string]int{}
		for _, e := range phases[i].Endpoints {
			out[e.Endpoint] = e.Requests
		}
		return out
	}
	assert.Equal(t, "rush set-up", phases[0].Name)
	assert.Equal(t, 4+2, endpoints(0)[client.EPSignUp], "buyers and sellers sign up in the set-up")
	assert.Equal(t, 2, endpoints(0)[client.EPCreateTicket])
	assert.Equal(t, "rush", phases[1].Name)
	assert.Zero(t, endpoints(1)[client.EPSignUp])
	assert.Equal(t, 4, endpoints(1)[client.EPListTickets], "every buyer looks at the list once")
}

func TestSeedListsTheTicketsAndSaysHowFar(t *testing.T) {
	tests := []struct{ n, width int }{{0, 4}, {1, 4}, {25, 4}, {7, 16}}
	for _, tt := range tests {
		env, rec := newEnv(t, &fakeAPI{})
		var lines []string
		var mu sync.Mutex
		env.Progress = func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, fmt.Sprintf(format, args...))
		}
		require.NoError(t, env.Seed(context.Background(), tt.n, tt.width))
		assert.Len(t, env.Ledger.Tickets(), tt.n)
		if tt.n == 0 {
			assert.Empty(t, lines)
			continue
		}
		assert.Equal(t, tt.n, counters(rec)["tickets seeded"])
		require.NotEmpty(t, lines)
		assert.Contains(t, lines[len(lines)-1], fmt.Sprintf("seed: tickets listed: %d of %d", tt.n, tt.n))
	}
}
