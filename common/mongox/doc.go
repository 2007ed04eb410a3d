// Package mongox holds the Mongo helpers every service shares: connecting,
// indexes, the one versioned update path for replicated records, the one
// rule by which replicas apply what they hear (ApplyNewer: keep the newest
// version), and the outbox relay that turns pending events stored in a
// record into published messages.
//
// # The outbox in the record
//
// A record that causes events carries them in its own document, in an array
// field named "outbox":
//
//	type Ticket struct {
//		ID      primitive.ObjectID   `bson:"_id"`
//		Version int64                `bson:"version"`
//		...
//		Outbox  []mongox.OutboxEvent `bson:"outbox,omitempty"`
//	}
//
// Creating a record is a plain InsertOne of a document whose Outbox already
// holds its "created" event, so there is no InsertWithOutbox function: the
// insert is one single-document write either way. Keep ",omitempty" on the
// tag: a nil slice without it is stored as null, and $push onto null fails.
// Every later change goes through UpdateVersioned, which writes the fields
// and appends the events in the same single-document update. After either
// write, call Relay.Notify so the events go out at once; the relay's timer
// and its start-up sweep cover a crash in between.
//
// Delivery is at-least-once: an event may be published again after a crash
// between its publish and its removal, or when two relays work on one
// collection. Listeners deduplicate by version (ApplyNewer).
package mongox
