// Package chart draws line charts over a shared time axis as a standalone
// SVG document, stacked in panels (latency percentiles above, throughput
// below), with vertical marks where a run's phases begin. It needs nothing
// but the standard library, and its output opens in any browser.
package chart

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
)

// Series is one line: a value per X of the figure. NaN leaves a gap.
type Series struct {
	Name  string
	Color string // any SVG colour; empty picks one from the palette
	Y     []float64
}

// Panel is one plot area with its own Y axis.
type Panel struct {
	Title  string
	Unit   string // shown on the Y axis, e.g. "ms"
	Series []Series
}

// Mark is a labelled vertical line, e.g. where a phase begins.
type Mark struct {
	X     float64
	Label string
}

// Figure is the whole chart.
type Figure struct {
	Title  string
	XLabel string
	X      []float64
	Panels []Panel
	Marks  []Mark
	Width  int // pixels; 0 means 960
	// PanelHeight is each panel's height in pixels; 0 means 260.
	PanelHeight int
}

var palette = []string{"#1f77b4", "#ff7f0e", "#d62728", "#2ca02c", "#9467bd", "#8c564b"}

const (
	marginLeft   = 70
	marginRight  = 150 // room for the legend
	marginTop    = 58
	panelGap     = 50
	marginBottom = 45
)

// Render writes f as an SVG document.
func Render(w io.Writer, f Figure) error {
	if f.Width <= 0 {
		f.Width = 960
	}
	if f.PanelHeight <= 0 {
		f.PanelHeight = 260
	}
	bw := bufio.NewWriter(w)
	n := max(len(f.Panels), 1)
	height := marginTop + n*f.PanelHeight + (n-1)*panelGap + marginBottom
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		f.Width, height, f.Width, height)
	fmt.Fprintf(bw, `<rect width="%d" height="%d" fill="white"/>`+"\n", f.Width, height)
	fmt.Fprintf(bw, `<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", marginLeft, esc(f.Title))

	xmin, xmax := extent(f.X)
	if len(f.X) == 0 {
		xmin, xmax = 0, 1
	}
	xTicks := niceTicks(xmin, xmax, 10)
	if len(xTicks) > 0 {
		xmin, xmax = math.Min(xmin, xTicks[0]), math.Max(xmax, xTicks[len(xTicks)-1])
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	plotW := float64(f.Width - marginLeft - marginRight)
	xpos := func(x float64) float64 { return marginLeft + (x-xmin)/(xmax-xmin)*plotW }

	if len(f.Panels) == 0 || len(f.X) == 0 {
		fmt.Fprintf(bw, `<text x="%d" y="%d" fill="#666">no data</text>`+"\n", marginLeft, marginTop+f.PanelHeight/2)
	}
	for i, p := range f.Panels {
		top := float64(marginTop + i*(f.PanelHeight+panelGap))
		renderPanel(bw, f, p, top, xTicks, xpos, i == len(f.Panels)-1)
	}
	fmt.Fprintln(bw, `</svg>`)
	return bw.Flush()
}

func renderPanel(w *bufio.Writer, f Figure, p Panel, top float64, xTicks []float64, xpos func(float64) float64, last bool) {
	h := float64(f.PanelHeight)
	left, right := float64(marginLeft), float64(f.Width-marginRight)
	bottom := top + h

	ymax := 0.0
	for _, s := range p.Series {
		for _, v := range s.Y {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				ymax = math.Max(ymax, v)
			}
		}
	}
	yTicks := niceTicks(0, ymax, 5)
	ytop := yTicks[len(yTicks)-1]
	if ytop <= 0 {
		ytop = 1
	}
	ypos := func(y float64) float64 { return bottom - y/ytop*h }

	fmt.Fprintf(w, `<g class="panel">`+"\n")
	fmt.Fprintf(w, `<text x="%s" y="%s" font-weight="bold">%s</text>`+"\n", num(left), num(top-8), esc(p.Title))
	fmt.Fprintf(w, `<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#999"/>`+"\n", num(left), num(top), num(right-left), num(h))
	for _, t := range yTicks {
		y := ypos(t)
		fmt.Fprintf(w, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e5e5e5"/>`+"\n", num(left), num(y), num(right), num(y))
		fmt.Fprintf(w, `<text x="%s" y="%s" text-anchor="end">%s</text>`+"\n", num(left-6), num(y+4), esc(label(t)))
	}
	fmt.Fprintf(w, `<text transform="translate(%s,%s) rotate(-90)" text-anchor="middle">%s</text>`+"\n",
		num(left-52), num(top+h/2), esc(p.Unit))
	for _, t := range xTicks {
		x := xpos(t)
		fmt.Fprintf(w, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#f0f0f0"/>`+"\n", num(x), num(top), num(x), num(bottom))
		if last {
			fmt.Fprintf(w, `<text x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", num(x), num(bottom+16), esc(label(t)))
		}
	}
	if last && f.XLabel != "" {
		fmt.Fprintf(w, `<text x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", num((left+right)/2), num(bottom+36), esc(f.XLabel))
	}
	for _, m := range f.Marks {
		x := xpos(m.X)
		fmt.Fprintf(w, `<line class="mark" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#555" stroke-dasharray="4 3"/>`+"\n", num(x), num(top), num(x), num(bottom))
		fmt.Fprintf(w, `<text x="%s" y="%s" fill="#555">%s</text>`+"\n", num(x+3), num(top+14), esc(m.Label))
	}
	for i, s := range p.Series {
		color := s.Color
		if color == "" {
			color = palette[i%len(palette)]
		}
		for _, seg := range segments(f.X, s.Y) {
			var b strings.Builder
			for j, pt := range seg {
				if j > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(num(xpos(pt[0])) + "," + num(ypos(pt[1])))
			}
			fmt.Fprintf(w, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"><title>%s</title></polyline>`+"\n",
				esc(color), b.String(), esc(s.Name))
		}
		ly := top + 12 + float64(i)*18
		fmt.Fprintf(w, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="3"/>`+"\n", num(right+10), num(ly), num(right+30), num(ly), esc(color))
		fmt.Fprintf(w, `<text x="%s" y="%s">%s</text>`+"\n", num(right+36), num(ly+4), esc(s.Name))
	}
	fmt.Fprintln(w, `</g>`)
}

// segments splits a series into runs of finite points; a NaN or a missing
// value breaks the line instead of drawing it down to zero.
func segments(xs, ys []float64) [][][2]float64 {
	var out [][][2]float64
	var cur [][2]float64
	for i, x := range xs {
		if i >= len(ys) || math.IsNaN(ys[i]) || math.IsInf(ys[i], 0) {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, [2]float64{x, ys[i]})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func extent(xs []float64) (lo, hi float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	lo, hi = xs[0], xs[0]
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// niceTicks returns about n evenly spaced round values (1, 2 or 5 times a
// power of ten apart) covering [lo, hi], the first at or below lo and the
// last at or above hi.
func niceTicks(lo, hi float64, n int) []float64 {
	if math.IsNaN(lo) || math.IsNaN(hi) || hi < lo {
		return []float64{0, 1}
	}
	if hi == lo {
		if hi == 0 {
			return []float64{0, 1}
		}
		lo, hi = math.Min(0, lo), math.Max(0, hi)
	}
	step := niceStep((hi - lo) / float64(max(n, 1)))
	start := math.Floor(lo/step) * step
	var ticks []float64
	for i := 0; i <= 1000; i++ {
		// From the index, so repeated additions do not drift.
		v := start + float64(i)*step
		ticks = append(ticks, roundTo(v, step))
		if v >= hi-step*1e-9 {
			break
		}
	}
	return ticks
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / exp; {
	case f <= 1:
		return exp
	case f <= 2:
		return 2 * exp
	case f <= 5:
		return 5 * exp
	default:
		return 10 * exp
	}
}

// roundTo removes floating-point noise (0.30000000000000004) from a tick.
func roundTo(v, step float64) float64 {
	digits := max(0, -int(math.Floor(math.Log10(step))))
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func label(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// num formats a coordinate with at most one decimal: enough for a screen,
// and it keeps the file small.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

func esc(s string) string { return html.EscapeString(s) }
