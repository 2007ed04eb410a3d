package ticket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/ticketing/common/errs"
)

// DefaultForSaleMax is the default bound on the tickets the view holds:
// about 200 MB of memory, far more tickets than a MongoDB-backed store
// would list for sale at once.
const DefaultForSaleMax = 1_000_000

// OnSale reports whether the ticket is listed for sale: nobody holds it and
// its seller has not withdrawn it.
func (t Ticket) OnSale() bool { return !t.Reserved() && !t.Withdrawn }

// ForSale is the tickets service's in-memory view of the tickets for sale,
// newest first, so that listing them and reading one costs the same however
// many tickets the store holds. It keeps, per ticket it has heard of, the
// newest version (the replicas' rule, CONTRACT.md §3): a ticket listed for
// sale at that version, or only the version of one that is not, so that an
// older event arriving late cannot list a reserved ticket again.
//
// It is fed by the service's own writes, by the ticket events of every copy
// of the service (Heard), and by one scan of the store at start (Load). Until
// Load has finished, or once it would hold more than its bound, it answers
// nothing and the service reads the store instead.
type ForSale struct {
	max int
	log *slog.Logger

	mu      sync.RWMutex
	entries map[string]viewEntry // every ticket heard of, by id
	ids     sortedIDs            // the ids of those listed for sale
	// unlisted counts the entries of tickets not for sale.
	unlisted int
	ready    bool
	over     bool // more than max listed: the view is off for good
}

// viewEntry is what the view keeps of one ticket. listed holds the ticket
// only while it is for sale; the lists of past and standby orders are never
// kept.
type viewEntry struct {
	version int64
	listed  *Ticket
}

// NewForSale makes an empty view holding at most max tickets (max < 1 takes
// DefaultForSaleMax). A nil logger discards.
func NewForSale(max int, logger *slog.Logger) *ForSale {
	if max < 1 {
		max = DefaultForSaleMax
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &ForSale{max: max, log: logger.With("component", "for-sale-view"), entries: map[string]viewEntry{}}
}

// Apply records t unless the view already has the same or a newer version
// of it, and reports whether it did.
func (v *ForSale) Apply(t Ticket) bool {
	id := strings.ToLower(t.ID)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.over {
		return false
	}
	prev, known := v.entries[id]
	if known && prev.version >= t.Version {
		return false
	}
	if known && prev.listed == nil {
		v.unlisted--
	}
	e := viewEntry{version: t.Version}
	if t.OnSale() {
		listed := Ticket{ID: id, Title: t.Title, Price: t.Price, UserID: t.UserID, Version: t.Version}
		e.listed = &listed
		v.ids.insert(id)
	} else {
		v.ids.remove(id)
		v.unlisted++
	}
	v.entries[id] = e
	v.bound()
	return true
}

// bound keeps the view within max tickets for sale and max others. The
// versions of tickets not for sale only save Heard a store read, so past
// the bound they are all forgotten at once (amortised O(1) per ticket). If
// the tickets for sale exceed max, the view turns itself off for good.
func (v *ForSale) bound() {
	if v.unlisted > v.max {
		for id, e := range v.entries {
			if e.listed == nil {
				delete(v.entries, id)
			}
		}
		v.unlisted = 0
	}
	if v.ids.len() <= v.max {
		return
	}
	v.over = true
	v.entries, v.ids, v.unlisted = nil, sortedIDs{}, 0
	v.log.Error("more tickets for sale than the view may hold; lists and reads go to the store from now on",
		"max", v.max)
}

// version is the newest version the view knows of ticket id.
func (v *ForSale) version(id string) (int64, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	e, ok := v.entries[strings.ToLower(id)]
	return e.version, ok
}

// markReady lets the view answer, once Load has seen the whole store.
func (v *ForSale) markReady() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ready = true
}

// Get returns ticket id if the view lists it for sale. ok is false when it
// does not (the ticket is reserved, unknown, or the view is not answering).
func (v *ForSale) Get(id string) (Ticket, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if !v.ready || v.over {
		return Ticket{}, false
	}
	e, ok := v.entries[strings.ToLower(id)]
	if !ok || e.listed == nil {
		return Ticket{}, false
	}
	return *e.listed, true
}

// List returns page p of the tickets for sale, newest first, as Store.List
// does. ok is false while the view is not answering.
func (v *ForSale) List(p Page) (_ []Ticket, ok bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if !v.ready || v.over {
		return nil, false
	}
	out := make([]Ticket, 0, min(p.Limit, v.ids.len()))
	v.ids.descending(strings.ToLower(p.Before), func(id string) bool {
		out = append(out, *v.entries[id].listed)
		return len(out) < p.Limit
	})
	return out, true
}

// Scanner reads every stored ticket once, in any order, for Load.
type Scanner interface {
	Scan(ctx context.Context, fn func(Ticket)) error
}

// Load fills the view from the store and lets it answer. Subscribe to the
// ticket events before calling it, so that no change falls between the scan
// and the events: whatever the scan reads and the events bring, the newest
// version wins.
func (v *ForSale) Load(ctx context.Context, store Scanner) error {
	var n int
	if err := store.Scan(ctx, func(t Ticket) { v.Apply(t); n++ }); err != nil {
		return fmt.Errorf("load tickets for sale: %w", err)
	}
	v.markReady()
	v.mu.RLock()
	listed, over := v.ids.len(), v.over
	v.mu.RUnlock()
	v.log.Info("tickets for sale loaded", "scanned", n, "forSale", listed, "off", over)
	return nil
}

// Heard applies a ticket event of any copy of the service. An event naming
// a ticket the view has never heard of may be older than the stored ticket
// (the view did not keep it because it was not for sale when loaded), so
// before listing such a ticket the view reads it from the store by id and
// keeps the newer of the two.
func (v *ForSale) Heard(ctx context.Context, store Store, t Ticket) error {
	if _, known := v.version(t.ID); known || !t.OnSale() {
		v.Apply(t)
		return nil
	}
	stored, err := store.Get(ctx, t.ID)
	switch {
	case err == nil:
		v.Apply(stored)
	case !errors.Is(err, errs.ErrNotFound):
		return fmt.Errorf("check ticket %s: %w", t.ID, err)
	}
	v.Apply(t)
	return nil
}
