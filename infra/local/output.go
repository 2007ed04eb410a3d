package main

import (
	"bytes"
	"io"
	"sync"
)

// syncWriter serialises writes, so that a line written in one Write call by
// one child never interleaves with another child's line.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// maxLineLen bounds the buffer of a line that never ends, so a child that
// writes megabytes without a newline cannot grow the launcher's memory.
const maxLineLen = 64 << 10

// lineWriter writes each complete line it is given to out as one Write,
// prefixed with "[name] ". Flush writes a trailing partial line.
type lineWriter struct {
	mu     sync.Mutex
	out    io.Writer
	prefix []byte
	buf    []byte
}

func newLineWriter(out io.Writer, name string) *lineWriter {
	return &lineWriter{out: out, prefix: []byte("[" + name + "] ")}
}

// Write never fails: a child must not get EPIPE because the launcher's own
// output went away.
func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	start := 0
	for {
		i := bytes.IndexByte(l.buf[start:], '\n')
		if i < 0 {
			break
		}
		l.emit(l.buf[start : start+i+1])
		start += i + 1
	}
	l.buf = append(l.buf[:0], l.buf[start:]...)
	if len(l.buf) >= maxLineLen {
		l.emit(append(l.buf, '\n'))
		l.buf = l.buf[:0]
	}
	return len(p), nil
}

// Flush writes what is left of an unterminated last line.
func (l *lineWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(append(l.buf, '\n'))
		l.buf = l.buf[:0]
	}
}

func (l *lineWriter) emit(line []byte) {
	msg := make([]byte, 0, len(l.prefix)+len(line))
	msg = append(msg, l.prefix...)
	msg = append(msg, line...)
	_, _ = l.out.Write(msg)
}
