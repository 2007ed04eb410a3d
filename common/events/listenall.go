package events

import (
	"errors"
	"fmt"
)

// Subscription starts one listener in a queue group; On makes one from a
// handler. A service lists its handlers once and ListenAll starts them.
type Subscription func(conn *Conn, group string, opts ...ListenOption) (*Listener, error)

// On is the subscription of handler, for ListenAll.
func On[T Payload](handler Handler[T]) Subscription {
	return func(conn *Conn, group string, opts ...ListenOption) (*Listener, error) {
		return Listen(conn, group, handler, opts...)
	}
}

// ListenAll starts every subscription in group with opts, in order. If one
// fails, the ones already started are closed again (keeping the group's
// durable position) and nothing is left running.
func ListenAll(conn *Conn, group string, opts []ListenOption, subs ...Subscription) ([]*Listener, error) {
	started := make([]*Listener, 0, len(subs))
	for _, sub := range subs {
		l, err := sub(conn, group, opts...)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("listeners of %s: %w", group, err), CloseAll(started))
		}
		started = append(started, l)
	}
	return started, nil
}

// CloseAll closes every listener, keeping their durable positions, and
// joins their errors.
func CloseAll(ls []*Listener) error {
	var errs []error
	for _, l := range ls {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}
