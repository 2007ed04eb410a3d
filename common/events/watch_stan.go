package events

import "github.com/nats-io/stan.go"

// stanWatchSubscribe makes a Watcher's plain NATS Streaming subscription:
// no durable name, no queue group, manual acks (the watcher acks every
// message), starting after the last message before the first hole in what
// it was handed, or at the time Watch was called. stan.go turns that time
// into a delta, so clocks need not agree; a sequence past the server's last
// (it lost its state) counts as "new only" there.
func stanWatchSubscribe(sc stan.Conn, s *subscription) (stan.Subscription, error) {
	start := stan.StartAtTime(s.watch.since)
	if seq := s.watch.contiguous.Load(); seq > 0 {
		start = stan.StartAtSequence(seq + 1)
	}
	return sc.Subscribe(string(s.subject),
		func(m *stan.Msg) { s.deliver(stanDelivery{m}) },
		start,
		stan.SetManualAckMode(),
		stan.AckWait(s.ackWait),
		stan.MaxInflight(s.maxInflight),
	)
}
