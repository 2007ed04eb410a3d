package mongox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/ticketing/common/errs"
)

// Field names UpdateVersioned owns; a Change may not touch them.
const (
	fieldID      = "_id"
	fieldVersion = "version"
	fieldOutbox  = "outbox"
)

// Change is what one versioned update does to a record: fields to set, fields
// to remove, and the events the change causes.
type Change struct {
	Set    bson.M
	Unset  []string
	Events []OutboxEvent
}

// UpdateVersioned applies ch to the record id only if it is still at version,
// bumps the version by one and appends ch.Events to its outbox, all in one
// single-document update, so the record and its events are stored together
// or not at all. If the record is not at version (someone else changed it,
// or it does not exist), nothing is written and the error matches
// errs.ErrConflict under errors.Is.
//
// Call Relay.Notify after a successful update so the events go out at once.
// The update is not abandoned when ctx is cancelled (WriteContext).
func UpdateVersioned(ctx context.Context, coll *mongo.Collection, id primitive.ObjectID, version int64, ch Change) error {
	update, err := versionedUpdate(version, ch)
	if err != nil {
		return err
	}
	ctx, cancel := WriteContext(ctx)
	defer cancel()
	res, err := coll.UpdateOne(ctx, bson.M{fieldID: id, fieldVersion: version}, update)
	if err != nil {
		return fmt.Errorf("mongox: update %s %s at version %d: %w", coll.Name(), id.Hex(), version, err)
	}
	if res.MatchedCount == 0 {
		return errs.Wrap(errs.ErrConflict,
			fmt.Errorf("mongox: %s %s is not at version %d", coll.Name(), id.Hex(), version))
	}
	return nil
}

// versionedUpdate builds the update document and rejects changes that would
// touch the fields this package owns: a Set of "version" would break the
// replicas' ordering, and one of "outbox" would drop pending events.
func versionedUpdate(version int64, ch Change) (bson.M, error) {
	set := bson.M{}
	for k, v := range ch.Set {
		if err := checkField(k); err != nil {
			return nil, err
		}
		set[k] = v
	}
	set[fieldVersion] = version + 1
	update := bson.M{"$set": set}

	if len(ch.Unset) > 0 {
		unset := bson.M{}
		for _, k := range ch.Unset {
			if err := checkField(k); err != nil {
				return nil, err
			}
			for s := range ch.Set {
				if overlaps(k, s) {
					return nil, fmt.Errorf("mongox: field %q is both set and unset", k)
				}
			}
			unset[k] = ""
		}
		update["$unset"] = unset
	}

	if len(ch.Events) > 0 {
		for _, ev := range ch.Events {
			if ev.ID == "" || ev.Subject == "" {
				return nil, errors.New("mongox: outbox event without id or subject; build it with NewOutboxEvent")
			}
		}
		update["$push"] = bson.M{fieldOutbox: bson.M{"$each": ch.Events}}
	}
	return update, nil
}

func checkField(k string) error {
	if k == "" {
		return errors.New("mongox: empty field name in change")
	}
	for _, owned := range []string{fieldID, fieldVersion, fieldOutbox} {
		if overlaps(k, owned) {
			return fmt.Errorf("mongox: a change may not touch %q (field %q)", owned, k)
		}
	}
	return nil
}

// overlaps reports whether two dotted paths name the same field or one lies
// inside the other, which MongoDB refuses in one update.
func overlaps(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+".") || strings.HasPrefix(b, a+".")
}

// MayHaveStored says whether a write that returned err may have stored
// what it wrote (errs.Refused), counting a duplicate key as a refusal.
func MayHaveStored(err error) bool {
	return err == nil || !(errs.Refused(err) || IsDuplicateKey(err))
}
