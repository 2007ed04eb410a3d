package faults

import (
	"testing"
	"time"
)

// TestKillEachPartUnderLoad kills every process of the fleet in turn with
// SIGKILL while buyers purchase and sellers edit, waits for the launcher to
// start it again, and then checks that the state converges with nothing
// lost.
func TestKillEachPartUnderLoad(t *testing.T) {
	victims := []string{"tickets", "orders", "payments", "expiration", "auth", "nats", "redis"}
	rounds, pause, purchasers, editors := 1, 2*time.Second, 3, 4
	if long() {
		victims = append(victims, "mongo", "stripe-mock")
		rounds, pause, purchasers, editors = 3, 5*time.Second, 8, 20
	}
	f := startFleet(t)
	l := startLoad(t, urls(f), "faults", purchasers, editors)

	for round := 1; round <= rounds; round++ {
		for _, name := range victims {
			time.Sleep(pause)
			away := kill(t, f, name)
			t.Logf("round %d: %s killed, back after %s", round, name, away.Round(time.Millisecond))
		}
	}
	time.Sleep(pause) // some load on the fleet as it came back
	l.finish(t, f)
}
