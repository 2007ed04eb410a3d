// Package client speaks the ticketing API of CONTRACT.md §2 for the load
// generator: one Client per run (shared connection pool and recorder), one
// User per signed-in person (their session cookie). Every request is timed
// and recorded under its route ("POST /api/orders"), with whether the caller
// expected its status.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ticketing/tools/loadgen/stats"
)

// URLs are the base URLs of the services. Behind the ingress they are all
// the same; against the services' own ports each differs.
type URLs struct {
	Auth, Tickets, Orders, Payments string
}

// SameBase is URLs with every service behind one base URL (the ingress).
func SameBase(base string) URLs {
	base = strings.TrimRight(base, "/")
	return URLs{Auth: base, Tickets: base, Orders: base, Payments: base}
}

// Client sends requests and records them.
type Client struct {
	urls URLs
	hc   *http.Client
	rec  *stats.Recorder
}

// New returns a client for urls that records into rec and keeps up to
// conns idle connections per service, so a steady load reuses them instead
// of opening a connection per request. timeout bounds each request.
func New(urls URLs, rec *stats.Recorder, conns int, timeout time.Duration) *Client {
	conns = max(conns, 2)
	tr := &http.Transport{
		Proxy:               nil, // only ever loopback; a proxy variable must not divert it
		MaxIdleConns:        conns * 4,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
	}
	trim := func(s string) string { return strings.TrimRight(s, "/") }
	urls = URLs{Auth: trim(urls.Auth), Tickets: trim(urls.Tickets), Orders: trim(urls.Orders), Payments: trim(urls.Payments)}
	return &Client{urls: urls, hc: &http.Client{Transport: tr, Timeout: timeout}, rec: rec}
}

// URLs returns where the client sends requests.
func (c *Client) URLs() URLs { return c.urls }

// Close drops the idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Response is an answer: its status and body.
type Response struct {
	Status int
	Body   []byte
	Header http.Header
}

// Message is the first error message of a contract error body, or "".
func (r Response) Message() string {
	var e struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(r.Body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Message
}

// Decode reads the JSON body into out.
func (r Response) Decode(out any) error {
	if err := json.Unmarshal(r.Body, out); err != nil {
		return fmt.Errorf("decode %d answer %.200q: %w", r.Status, r.Body, err)
	}
	return nil
}

// UnexpectedError is an answer the caller did not expect, or none at all.
type UnexpectedError struct {
	Endpoint string
	Status   int // stats.StatusTransport when no answer came
	Body     string
	Err      error // the transport error, if any
}

func (e *UnexpectedError) Error() string {
	if e.Status == stats.StatusTransport {
		return fmt.Sprintf("%s: no answer: %v", e.Endpoint, e.Err)
	}
	return fmt.Sprintf("%s: unexpected %d %.300s", e.Endpoint, e.Status, e.Body)
}

func (e *UnexpectedError) Unwrap() error { return e.Err }

// IsServerError reports whether err is a 5xx or no answer: the server's
// fault or its absence, which a client may retry.
func IsServerError(err error) bool {
	var ue *UnexpectedError
	return errors.As(err, &ue) && (ue.Status == stats.StatusTransport || ue.Status >= 500)
}

// Do sends one request and records it under endpoint. body, if not nil, is
// sent as JSON; cookie, if not empty, as the Cookie header. A status outside
// expect (or no answer) is an *UnexpectedError; the response is returned
// either way.
func (c *Client) Do(ctx context.Context, endpoint, method, url, cookie string, body any, expect ...int) (Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Response{}, fmt.Errorf("%s: encode body: %w", endpoint, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return Response{}, fmt.Errorf("%s: %w", endpoint, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	sent := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			// The run is over, not the server's fault: record nothing.
			return Response{}, ctx.Err()
		}
		c.rec.Request(endpoint, stats.StatusTransport, sent, time.Since(sent), false)
		return Response{}, &UnexpectedError{Endpoint: endpoint, Status: stats.StatusTransport, Err: err}
	}
	data, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	latency := time.Since(sent)
	if err != nil {
		if ctx.Err() != nil {
			return Response{}, ctx.Err()
		}
		c.rec.Request(endpoint, stats.StatusTransport, sent, latency, false)
		return Response{}, &UnexpectedError{Endpoint: endpoint, Status: stats.StatusTransport, Err: err}
	}
	r := Response{Status: res.StatusCode, Body: data, Header: res.Header}
	ok := slices.Contains(expect, res.StatusCode)
	c.rec.Request(endpoint, res.StatusCode, sent, latency, ok)
	if !ok {
		return r, &UnexpectedError{Endpoint: endpoint, Status: res.StatusCode, Body: string(data)}
	}
	return r, nil
}
