package ticket_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/services/tickets/internal/ticket"
)

// Scan for the memStore fake, for ForSale.Load; finds counts Find calls.
type scanStore struct {
	*memStore
	finds atomic.Int32
}

func (s *scanStore) Scan(_ context.Context, fn func(ticket.Ticket)) error {
	s.mu.Lock()
	all := make([]ticket.Ticket, 0, len(s.tickets))
	for _, t := range s.tickets {
		all = append(all, t)
	}
	s.mu.Unlock()
	for _, t := range all {
		fn(t)
	}
	return nil
}

func (s *scanStore) Get(ctx context.Context, id string) (ticket.Ticket, error) {
	s.finds.Add(1)
	return s.memStore.Get(ctx, id)
}

func newScanStore(ts ...ticket.Ticket) *scanStore {
	m := &memStore{tickets: map[string]ticket.Ticket{}}
	for _, t := range ts {
		m.tickets[t.ID] = t
	}
	return &scanStore{memStore: m}
}

func tk(n int, version int64, order string) ticket.Ticket {
	return ticket.Ticket{ID: fmt.Sprintf("%024x", n), Title: fmt.Sprintf("t%d v%d", n, version), Price: 10, UserID: owner, Version: version, OrderID: order}
}

func loadedView(t *testing.T, store *scanStore, max int) *ticket.ForSale {
	t.Helper()
	v := ticket.NewForSale(max, nil)
	require.NoError(t, v.Load(context.Background(), store))
	return v
}

func listIDs(t *testing.T, v *ticket.ForSale, p ticket.Page) []string {
	t.Helper()
	ts, ok := v.List(p)
	require.True(t, ok)
	ids := make([]string, len(ts))
	for i, x := range ts {
		ids[i] = x.ID
	}
	return ids
}

// The newest version of each ticket wins, whatever order the versions
// arrive in; a ticket is listed only while its newest version is for sale.
func TestForSaleKeepsNewestVersion(t *testing.T) {
	tests := []struct {
		name    string
		applied []ticket.Ticket
		listed  bool
		version int64
	}{
		{"created", []ticket.Ticket{tk(1, 0, "")}, true, 0},
		{"reserved", []ticket.Ticket{tk(1, 0, ""), tk(1, 1, orderA)}, false, 1},
		{"reserved, then its creation arrives late", []ticket.Ticket{tk(1, 1, orderA), tk(1, 0, "")}, false, 1},
		{"released", []ticket.Ticket{tk(1, 0, ""), tk(1, 1, orderA), tk(1, 2, "")}, true, 2},
		{"released before reserved arrives", []ticket.Ticket{tk(1, 2, ""), tk(1, 1, orderA), tk(1, 0, "")}, true, 2},
		{"a repeat changes nothing", []ticket.Ticket{tk(1, 3, ""), tk(1, 3, orderA)}, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := loadedView(t, newScanStore(), 0)
			for _, x := range tt.applied {
				v.Apply(x)
			}
			got, ok := v.Get(tk(1, 0, "").ID)
			assert.Equal(t, tt.listed, ok)
			if tt.listed {
				assert.Equal(t, tt.version, got.Version)
				assert.Equal(t, tk(1, tt.version, "").Title, got.Title)
				assert.Equal(t, []string{got.ID}, listIDs(t, v, ticket.Page{Limit: 10}))
			} else {
				assert.Empty(t, listIDs(t, v, ticket.Page{Limit: 10}))
			}
		})
	}
}

// Pages as Store.List gives them: newest (largest id) first, limit, and
// before the id of the last ticket shown; reserved tickets left out.
func TestForSaleListPages(t *testing.T) {
	var stored []ticket.Ticket
	for n := 1; n <= 20; n++ {
		order := ""
		if n%5 == 0 {
			order = orderA
		}
		stored = append(stored, tk(n, 1, order))
	}
	v := loadedView(t, newScanStore(stored...), 0)
	id := func(n int) string { return tk(n, 0, "").ID }
	tests := []struct {
		name string
		page ticket.Page
		want []int
	}{
		{"first page", ticket.Page{Limit: 5}, []int{19, 18, 17, 16, 14}},
		{"next page", ticket.Page{Limit: 5, Before: id(14)}, []int{13, 12, 11, 9, 8}},
		{"before a reserved one", ticket.Page{Limit: 3, Before: id(15)}, []int{14, 13, 12}},
		{"before an unknown id", ticket.Page{Limit: 2, Before: fmt.Sprintf("%024x", 1000)}, []int{19, 18}},
		{"upper-case cursor", ticket.Page{Limit: 1, Before: strings.ToUpper(fmt.Sprintf("%024x", 0xb))}, []int{9}},
		{"last page", ticket.Page{Limit: 5, Before: id(3)}, []int{2, 1}},
		{"nothing before the first", ticket.Page{Limit: 5, Before: id(1)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, n := range tt.want {
				want = append(want, id(n))
			}
			got := listIDs(t, v, tt.page)
			if want == nil {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, want, got)
		})
	}
}

// Until Load has run, and once the bound is exceeded, the view answers
// nothing and the service reads the store. Exceeding is logged once.
func TestForSaleAnswersOnlyWhenLoadedAndWithinBound(t *testing.T) {
	v := ticket.NewForSale(3, nil)
	v.Apply(tk(1, 0, ""))
	_, ok := v.List(ticket.Page{Limit: 10})
	assert.False(t, ok, "not loaded yet")
	_, ok = v.Get(tk(1, 0, "").ID)
	assert.False(t, ok, "not loaded yet")

	var logs bytes.Buffer
	v = ticket.NewForSale(3, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, v.Load(context.Background(), newScanStore(tk(1, 0, ""), tk(2, 0, ""), tk(3, 0, ""))))
	assert.Len(t, listIDs(t, v, ticket.Page{Limit: 10}), 3)
	// Versions of reserved tickets do not count against the tickets listed.
	for n := 10; n < 20; n++ {
		v.Apply(tk(n, 1, orderA))
	}
	assert.Len(t, listIDs(t, v, ticket.Page{Limit: 10}), 3)

	v.Apply(tk(4, 0, ""))
	v.Apply(tk(5, 0, ""))
	_, ok = v.List(ticket.Page{Limit: 10})
	assert.False(t, ok, "over the bound")
	_, ok = v.Get(tk(1, 0, "").ID)
	assert.False(t, ok)
	assert.Equal(t, 1, strings.Count(logs.String(), "more tickets for sale than the view may hold"))
}

// An event for a ticket the view never heard of may be older than the
// stored ticket (reserved when the view was loaded, so not kept): the view
// reads the ticket by id before listing it. Known tickets cost no read.
func TestForSaleHeardChecksUnknownTicketsInStore(t *testing.T) {
	ctx := context.Background()
	store := newScanStore(tk(1, 0, ""))
	v := loadedView(t, store, 0)
	store.tickets[tk(2, 0, "").ID] = tk(2, 1, orderA) // reserved after the load, or before it
	store.tickets[tk(3, 0, "").ID] = tk(3, 2, "")

	require.NoError(t, v.Heard(ctx, store, tk(1, 1, "")))
	assert.Zero(t, store.finds.Load(), "a known ticket is applied at once")
	require.NoError(t, v.Heard(ctx, store, tk(2, 0, "")))
	_, ok := v.Get(tk(2, 0, "").ID)
	assert.False(t, ok, "the late creation of a reserved ticket does not list it")
	require.NoError(t, v.Heard(ctx, store, tk(3, 1, "")))
	got, ok := v.Get(tk(3, 0, "").ID)
	require.True(t, ok)
	assert.Equal(t, int64(2), got.Version, "the newer stored version wins")
	require.NoError(t, v.Heard(ctx, store, tk(4, 0, "")))
	_, ok = v.Get(tk(4, 0, "").ID)
	assert.True(t, ok, "a ticket the store does not have yet is listed as heard")
	assert.Equal(t, int32(3), store.finds.Load())
}

// Writes, events and reads race; every ticket ends at its newest version,
// and no read ever sees a version go back.
func TestForSaleConcurrentWritesEventsAndReads(t *testing.T) {
	const tickets, versions = 20, 30
	v := loadedView(t, newScanStore(), 0)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			// Each writer applies every version, in its own order.
			for i := range versions {
				ver := int64(i)
				if w%2 == 1 {
					ver = int64(versions - 1 - i)
				}
				for n := range tickets {
					order := ""
					if ver%3 == 1 {
						order = orderA
					}
					v.Apply(tk(n, ver, order))
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			seen := map[string]int64{}
			for {
				select {
				case <-stop:
					return
				default:
				}
				ts, ok := v.List(ticket.Page{Limit: ticket.MaxPageSize})
				assert.True(t, ok)
				for i, x := range ts {
					assert.GreaterOrEqual(t, x.Version, seen[x.ID], "a read never goes back")
					seen[x.ID] = x.Version
					if i > 0 {
						assert.Less(t, x.ID, ts[i-1].ID, "newest first")
					}
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	for n := range tickets {
		got, ok := v.Get(tk(n, 0, "").ID)
		require.True(t, ok, "version %d is for sale", versions-1)
		assert.Equal(t, int64(versions-1), got.Version)
	}
}

// Read-your-writes: what the service wrote is in the view before the call
// returns, so a list right after shows it.
func TestServiceWithViewReadsItsOwnWrites(t *testing.T) {
	ctx := context.Background()
	store := newScanStore()
	v := loadedView(t, store, 0)
	svc := ticket.NewService(store, ticket.WithView(v))
	page := ticket.Page{Limit: 10}

	created, err := svc.Create(ctx, owner, ticket.Draft{Title: "concert", Price: 20})
	require.NoError(t, err)
	ts, err := svc.List(ctx, page)
	require.NoError(t, err)
	require.Len(t, ts, 1)
	assert.Equal(t, created, ts[0])

	edited, err := svc.Edit(ctx, created.ID, owner, ticket.Draft{Title: "opera", Price: 30})
	require.NoError(t, err)
	got, err := svc.Get(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, edited, got)

	_, _, err = svc.Reserve(ctx, created.ID, orderA, time.Time{})
	require.NoError(t, err)
	ts, err = svc.List(ctx, page)
	require.NoError(t, err)
	assert.Empty(t, ts, "a reserved ticket leaves the list")
	finds := store.finds.Load()
	got, err = svc.Get(ctx, created.ID)
	require.NoError(t, err)
	assert.Equal(t, orderA, got.OrderID, "a reserved ticket is read from the store")
	assert.Equal(t, finds+1, store.finds.Load())

	_, _, err = svc.Release(ctx, created.ID, orderA)
	require.NoError(t, err)
	ts, err = svc.List(ctx, page)
	require.NoError(t, err)
	require.Len(t, ts, 1, "a released ticket returns")
	assert.Equal(t, int64(3), ts[0].Version)
}
