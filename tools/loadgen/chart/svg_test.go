package chart_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketing/tools/loadgen/chart"
)

// element is what the tests read back from the SVG.
type element struct {
	name  string
	attrs map[string]string
	text  string
}

// parse decodes the document strictly as XML and returns its elements in
// order, failing the test on anything a browser would refuse.
func parse(t *testing.T, doc []byte) []element {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	var out []element
	var stack []int
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the SVG is not well-formed XML")
		switch tok := tok.(type) {
		case xml.StartElement:
			el := element{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				el.attrs[a.Name.Local] = a.Value
			}
			out = append(out, el)
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				out[stack[len(stack)-1]].text += string(tok)
			}
		}
	}
	require.NotEmpty(t, out)
	assert.Equal(t, "svg", out[0].name)
	return out
}

func named(els []element, name string) []element {
	var out []element
	for _, e := range els {
		if e.name == name {
			out = append(out, e)
		}
	}
	return out
}

func texts(els []element) []string {
	var out []string
	for _, e := range named(els, "text") {
		out = append(out, e.text)
	}
	return out
}

func figure() chart.Figure {
	return chart.Figure{
		Title:  "purchase <run> & more",
		XLabel: "seconds",
		X:      []float64{0, 1, 2, 3},
		Panels: []chart.Panel{
			{Title: "latency", Unit: "ms", Series: []chart.Series{
				{Name: "p50", Y: []float64{1, 2, 3, 4}},
				{Name: "p99", Y: []float64{10, 20, math.NaN(), 40}},
			}},
			{Title: "throughput", Unit: "req/s", Series: []chart.Series{
				{Name: "requests", Color: "#000", Y: []float64{100, 120, 90, 110}},
			}},
		},
		Marks: []chart.Mark{{X: 0, Label: "browse"}, {X: 2, Label: "edits"}},
	}
}

func TestRenderIsWellFormedSVG(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, chart.Render(&buf, figure()))
	els := parse(t, buf.Bytes())

	assert.Equal(t, "http://www.w3.org/2000/svg", els[0].attrs["xmlns"])
	assert.Contains(t, texts(els), "purchase <run> & more", "text is escaped, and reads back unchanged")
	// p50 is one line, p99 two (its NaN breaks it), requests one.
	lines := named(els, "polyline")
	assert.Len(t, lines, 4)
	assert.Len(t, named(els, "g"), 2, "one group per panel")
	for _, want := range []string{"latency", "throughput", "ms", "req/s", "p50", "p99", "requests", "browse", "edits", "seconds"} {
		assert.Contains(t, texts(els), want)
	}
}

// Every point drawn lies inside its panel's frame, and a larger value is
// drawn higher: the scale is right, not just the syntax.
func TestRenderPointsInsidePlot(t *testing.T) {
	var buf bytes.Buffer
	f := figure()
	require.NoError(t, chart.Render(&buf, f))
	els := parse(t, buf.Bytes())

	var frames []element
	for _, r := range named(els, "rect") {
		if r.attrs["fill"] == "none" {
			frames = append(frames, r)
		}
	}
	require.Len(t, frames, 2)
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err, s)
		return v
	}
	inFrame := func(fr element, x, y float64) bool {
		fx, fy := num(fr.attrs["x"]), num(fr.attrs["y"])
		return x >= fx-0.1 && x <= fx+num(fr.attrs["width"])+0.1 && y >= fy-0.1 && y <= fy+num(fr.attrs["height"])+0.1
	}
	lines := named(els, "polyline")
	for i, l := range lines {
		frame := frames[0]
		if i == len(lines)-1 {
			frame = frames[1]
		}
		var prevY float64
		for j, p := range strings.Fields(l.attrs["points"]) {
			xs, ys, ok := strings.Cut(p, ",")
			require.True(t, ok, p)
			x, y := num(xs), num(ys)
			assert.True(t, inFrame(frame, x, y), "point %s of line %d is outside its panel", p, i)
			if i == 0 && j > 0 {
				assert.Less(t, y, prevY, "p50 rises, so each point is drawn higher (smaller y)")
			}
			prevY = y
		}
	}
}

func TestRenderWithoutData(t *testing.T) {
	for name, f := range map[string]chart.Figure{
		"nothing":         {},
		"no points":       {Title: "empty", Panels: []chart.Panel{{Title: "latency"}}},
		"all zero":        {X: []float64{0, 1}, Panels: []chart.Panel{{Series: []chart.Series{{Name: "z", Y: []float64{0, 0}}}}}},
		"one point":       {X: []float64{5}, Panels: []chart.Panel{{Series: []chart.Series{{Name: "one", Y: []float64{3}}}}}},
		"infinite values": {X: []float64{0, 1}, Panels: []chart.Panel{{Series: []chart.Series{{Name: "inf", Y: []float64{math.Inf(1), 2}}}}}},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, chart.Render(&buf, f))
			els := parse(t, buf.Bytes())
			assert.NotContains(t, buf.String(), "NaN")
			assert.NotContains(t, buf.String(), "Inf")
			if len(f.X) == 0 {
				assert.Contains(t, texts(els), "no data")
			}
		})
	}
}
