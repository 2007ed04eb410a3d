package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// A funnel lets several copies of one service share the local store as if
// they were one client with one connection. FerretDB makes a filtered update
// atomic only among the requests of one connection (ARCHITECTURE.md §4);
// each copy has its own, so two copies racing on {_id, version} could both
// win. The funnel takes whole MongoDB wire messages from any number of
// client connections and passes the ones that read or write data to the
// store over a single upstream connection, one request and its answer at a
// time, which is exactly what one copy with maxPoolSize=1 does today. It
// exists only for `up --replicas`; a MongoDB replica set needs none.
type funnel struct {
	upstream string // the store's address
	log      *slog.Logger

	mu   sync.Mutex // held for one request and its answers
	conn net.Conn   // the shared upstream connection; nil until dialled or after a failure
	r    *bufio.Reader
}

// Wire protocol facts the funnel needs (MongoDB's OP_MSG specification).
const (
	wireHeaderLen   = 16
	opQuery         = 2004
	opMsg           = 2013
	msgChecksum     = 1 << 0
	msgMoreToCome   = 1 << 1
	msgExhaust      = 1 << 16
	maxWireMessage  = 48 << 20 // the server's own limit
	funnelDialLimit = 5 * time.Second
)

// direct commands carry no data and may wait on the server (an awaitable
// hello waits up to its maxAwaitTimeMS), so each client connection sends them
// over an upstream connection of its own, outside the funnel.
var directCommands = map[string]bool{"hello": true, "isMaster": true, "ismaster": true, "ping": true}

func newFunnel(upstream string, log *slog.Logger) *funnel {
	return &funnel{upstream: upstream, log: log}
}

// serve accepts client connections on ln until ctx ends.
func (fn *funnel) serve(ctx context.Context, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	var clients sync.Map // net.Conn -> struct{}, closed when ctx ends
	stop := context.AfterFunc(ctx, func() {
		clients.Range(func(c, _ any) bool { _ = c.(net.Conn).Close(); return true })
	})
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("funnel to %s: accept: %w", fn.upstream, err)
		}
		clients.Store(c, struct{}{})
		wg.Go(func() {
			defer clients.Delete(c)
			fn.client(c)
		})
	}
}

// client relays one client connection's requests until it closes. A failure
// upstream closes it too, as the store's own death would: the driver then
// reconnects and retries.
func (fn *funnel) client(c net.Conn) {
	defer c.Close()
	var direct net.Conn // this client's own upstream for directCommands
	defer func() {
		if direct != nil {
			_ = direct.Close()
		}
	}()
	var directR *bufio.Reader
	in := bufio.NewReader(c)
	for {
		req, err := readWireMessage(in)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				fn.log.Debug("funnel: client read", "err", err)
			}
			return
		}
		clearExhaust(req)
		var replies [][]byte
		if isDirect(req) {
			if direct == nil {
				if direct, err = net.DialTimeout("tcp", fn.upstream, funnelDialLimit); err != nil {
					return
				}
				directR = bufio.NewReader(direct)
			}
			replies, err = exchange(direct, directR, req)
		} else {
			replies, err = fn.shared(req)
		}
		if err != nil {
			fn.log.Debug("funnel: upstream", "err", err)
			return
		}
		for _, rep := range replies {
			if _, err := c.Write(rep); err != nil {
				return
			}
		}
	}
}

// shared sends req over the one shared upstream connection and waits for its
// answers while every other client waits its turn.
func (fn *funnel) shared(req []byte) ([][]byte, error) {
	fn.mu.Lock()
	defer fn.mu.Unlock()
	if fn.conn == nil {
		c, err := net.DialTimeout("tcp", fn.upstream, funnelDialLimit)
		if err != nil {
			return nil, err
		}
		fn.conn, fn.r = c, bufio.NewReader(c)
	}
	replies, err := exchange(fn.conn, fn.r, req)
	if err != nil {
		// Whatever was half sent or half read makes the stream useless.
		_ = fn.conn.Close()
		fn.conn, fn.r = nil, nil
	}
	return replies, err
}

// exchange writes one request and reads its answers: none when the request
// says moreToCome, else replies until one without moreToCome.
func exchange(c net.Conn, r *bufio.Reader, req []byte) ([][]byte, error) {
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	if msgFlags(req)&msgMoreToCome != 0 {
		return nil, nil
	}
	var replies [][]byte
	for {
		rep, err := readWireMessage(r)
		if err != nil {
			return nil, err
		}
		replies = append(replies, rep)
		if msgFlags(rep)&msgMoreToCome == 0 {
			return replies, nil
		}
	}
}

// readWireMessage reads one whole message: its length comes first.
func readWireMessage(r *bufio.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(size[:])
	if n < wireHeaderLen || n > maxWireMessage {
		return nil, fmt.Errorf("wire message of %d bytes", n)
	}
	msg := make([]byte, n)
	copy(msg, size[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}

func opCode(msg []byte) int32 { return int32(binary.LittleEndian.Uint32(msg[12:16])) }

// msgFlags are an OP_MSG's flag bits; other messages have none that matter.
func msgFlags(msg []byte) uint32 {
	if opCode(msg) != opMsg || len(msg) < wireHeaderLen+4 {
		return 0
	}
	return binary.LittleEndian.Uint32(msg[wireHeaderLen:])
}

// clearExhaust turns a streamed answer into a single one: a stream would
// hold the shared connection for as long as it lasts. A message with a
// checksum is left alone (changing it would break the checksum); the
// driver sends none.
func clearExhaust(msg []byte) {
	f := msgFlags(msg)
	if f&msgExhaust == 0 || f&msgChecksum != 0 {
		return
	}
	binary.LittleEndian.PutUint32(msg[wireHeaderLen:], f&^msgExhaust)
}

// isDirect says whether msg is a handshake or a command in directCommands.
// A legacy OP_QUERY is only ever a handshake from the driver.
func isDirect(msg []byte) bool {
	switch opCode(msg) {
	case opQuery:
		return true
	case opMsg:
		return directCommands[commandName(msg)]
	}
	return false
}

// commandName is the first key of an OP_MSG's body (section kind 0), which
// names the command; "" if there is none.
func commandName(msg []byte) string {
	p := wireHeaderLen + 4
	for p < len(msg) {
		kind := msg[p]
		p++
		if p+4 > len(msg) {
			return ""
		}
		size := int(binary.LittleEndian.Uint32(msg[p:]))
		if kind != 0 {
			p += size // a document sequence: its size counts itself
			continue
		}
		// The body: int32 size, then elements of type byte + cstring key.
		if p+5 > len(msg) {
			return ""
		}
		key := msg[p+5:]
		for i, b := range key {
			if b == 0 {
				return string(key[:i])
			}
		}
		return ""
	}
	return ""
}
