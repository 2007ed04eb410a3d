package boot

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ticketing/common/events"
)

// Runner is work that runs in the background until its context ends: an
// outbox relay (*mongox.Relay), a periodic sweep. Run returns nil once ctx
// ends; failures inside are logged and retried.
type Runner interface {
	Run(ctx context.Context) error
}

var (
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("already started")
	// ErrClosed is returned by Start after Close: a closed service is not
	// restarted in place; make a new one.
	ErrClosed = errors.New("start after close")
)

// Background runs a service's event listeners, outbox relays and other
// runners from Start to Close. The zero value is ready to use; it is safe for concurrent use.
type Background struct {
	mu        sync.Mutex
	started   bool
	closed    bool
	listeners []*events.Listener
	stop      context.CancelFunc
	relays    sync.WaitGroup
}

// Start calls subscribe (nil for none) and then runs each relay (any
// Runner) in a goroutine of its own. The relays run until Close, not until ctx ends, so
// events written by requests that finish during a graceful shutdown still
// go out; ctx only lends them its values. Start returns once subscribe has.
// If subscribe fails it must close what it did subscribe; nothing then runs
// and Start may be tried again.
func (b *Background) Start(ctx context.Context, subscribe func() ([]*events.Listener, error), relays ...Runner) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return ErrClosed
	case b.started:
		return ErrStarted
	}
	for i, r := range relays {
		if r == nil {
			return fmt.Errorf("relay %d is nil", i)
		}
	}
	var ls []*events.Listener
	if subscribe != nil {
		var err error
		if ls, err = subscribe(); err != nil {
			return err
		}
	}
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	for _, r := range relays {
		b.relays.Go(func() {
			_ = r.Run(rctx) // nil once rctx ends (Runner)
		})
	}
	b.started, b.listeners, b.stop = true, ls, stop
	return nil
}

// Close closes the listeners (keeping their durable position and letting the
// messages in hand finish), then stops the relays and waits for them; events
// still pending go out at the next process's start. Closing again, or before
// Start, does nothing but refuse later Starts. The error joins the
// listeners' close errors.
func (b *Background) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	var err error
	for _, l := range b.listeners {
		err = errors.Join(err, l.Close())
	}
	b.listeners = nil
	if b.stop != nil {
		b.stop()
		b.relays.Wait()
	}
	return err
}
