package mongox

import (
	"context"
	"time"
)

// WriteTimeout bounds a write that stores events once it is under way.
const WriteTimeout = 30 * time.Second

// WriteContext is the context for a write that stores outbox events: it
// keeps ctx's values but not its cancellation, bounded by WriteTimeout.
// A request whose client gives up has often sent its write already; if the
// driver returned at the cancellation, the caller would wake the relay
// while the store was still applying the write, the relay would find
// nothing yet, and the events would wait for the next sweep (seen in the
// fault suite: an edit cancelled as the load stopped left its
// ticket:updated unpublished past the two-minute settle). Finishing the
// round trip means Relay.Notify comes after the store has answered.
func WriteContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), WriteTimeout)
}
