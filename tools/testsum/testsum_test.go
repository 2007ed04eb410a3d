package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Lines below are real `go test -json` output (Go 1.26) with Time removed.
const (
	passPkg = `{"Action":"start","Package":"example.com/s/good"}
{"Action":"run","Package":"example.com/s/good","Test":"TestA"}
{"Action":"output","Package":"example.com/s/good","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"example.com/s/good","Test":"TestA","Output":"    g_test.go:3: hello\n"}
{"Action":"output","Package":"example.com/s/good","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}
{"Action":"pass","Package":"example.com/s/good","Test":"TestA","Elapsed":0}
{"Action":"output","Package":"example.com/s/good","Output":"PASS\n"}
{"Action":"output","Package":"example.com/s/good","Output":"ok  \texample.com/s/good\t0.007s\n"}
{"Action":"pass","Package":"example.com/s/good","Elapsed":0.007}
`
	skipTest = `{"Action":"run","Package":"example.com/s/good","Test":"TestSkip"}
{"Action":"output","Package":"example.com/s/good","Test":"TestSkip","Output":"=== RUN   TestSkip\n"}
{"Action":"output","Package":"example.com/s/good","Test":"TestSkip","Output":"    g_test.go:4: no redis\n"}
{"Action":"output","Package":"example.com/s/good","Test":"TestSkip","Output":"--- SKIP: TestSkip (0.00s)\n"}
{"Action":"skip","Package":"example.com/s/good","Test":"TestSkip","Elapsed":0}
`
	failSubtest = `{"Action":"start","Package":"example.com/s/bad"}
{"Action":"run","Package":"example.com/s/bad","Test":"TestSub"}
{"Action":"output","Package":"example.com/s/bad","Test":"TestSub","Output":"=== RUN   TestSub\n"}
{"Action":"run","Package":"example.com/s/bad","Test":"TestSub/ok"}
{"Action":"output","Package":"example.com/s/bad","Test":"TestSub/ok","Output":"=== RUN   TestSub/ok\n"}
{"Action":"output","Package":"example.com/s/bad","Test":"TestSub/ok","Output":"    b_test.go:4: fine\n"}
{"Action":"output","Package":"example.com/s/bad","Test":"TestSub/ok","Output":"--- PASS: TestSub/ok (0.00s)\n"}
{"Action":"pass","Package":"example.com/s/bad","Test":"TestSub/ok","Elapsed":0}
{"Action":"run","Package":"example.com/s/bad","Test":"TestSub/bad"}
{"Action":"output","Package":"example.com/s/bad","Test":"TestSub/bad","Output":"=== RUN   TestSub/bad\n"}
{"Action":"output","Package":"example.com/s/bad","Test":"TestSub/bad","Output":"    b_test.go:5: want 1, got 2\n"}
{"Action":"output","Package":"example.com/s/bad","Test":"TestSub/bad","Output":"--- FAIL: TestSub/bad (0.00s)\n"}
{"Action":"fail","Package":"example.com/s/bad","Test":"TestSub/bad","Elapsed":0}
{"Action":"output","Package":"example.com/s/bad","Test":"TestSub","Output":"--- FAIL: TestSub (0.00s)\n"}
{"Action":"fail","Package":"example.com/s/bad","Test":"TestSub","Elapsed":0}
{"Action":"output","Package":"example.com/s/bad","Output":"FAIL\n"}
{"Action":"output","Package":"example.com/s/bad","Output":"FAIL\texample.com/s/bad\t0.004s\n"}
{"Action":"fail","Package":"example.com/s/bad","Elapsed":0.004}
`
	buildFail = `{"ImportPath":"example.com/s/broken [example.com/s/broken.test]","Action":"build-output","Output":"# example.com/s/broken [example.com/s/broken.test]\n"}
{"ImportPath":"example.com/s/broken [example.com/s/broken.test]","Action":"build-output","Output":"broken/x.go:2:23: cannot use \"x\" (untyped string constant) as int value in return statement\n"}
{"ImportPath":"example.com/s/broken [example.com/s/broken.test]","Action":"build-fail"}
{"Action":"start","Package":"example.com/s/broken"}
{"Action":"output","Package":"example.com/s/broken","Output":"FAIL\texample.com/s/broken [build failed]\n"}
{"Action":"fail","Package":"example.com/s/broken","Elapsed":0,"FailedBuild":"example.com/s/broken [example.com/s/broken.test]"}
`
	noTests = `{"Action":"start","Package":"example.com/s/notests"}
{"Action":"output","Package":"example.com/s/notests","Output":"?   \texample.com/s/notests\t[no test files]\n"}
{"Action":"skip","Package":"example.com/s/notests","Elapsed":0}
`
	// A panic outside any test (in TestMain) fails the package with no
	// failing test event; the test that was running never ends.
	panicPkg = `{"Action":"start","Package":"example.com/s/p"}
{"Action":"run","Package":"example.com/s/p","Test":"TestHang"}
{"Action":"output","Package":"example.com/s/p","Test":"TestHang","Output":"=== RUN   TestHang\n"}
{"Action":"output","Package":"example.com/s/p","Output":"panic: boom\n"}
{"Action":"output","Package":"example.com/s/p","Output":"FAIL\texample.com/s/p\t0.010s\n"}
{"Action":"fail","Package":"example.com/s/p","Elapsed":0.01}
`
)

func TestTestsum(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    string // the whole output
		wantErr bool
	}{
		{
			name:  "passing package prints its ok line",
			input: passPkg,
			want:  "ok  \texample.com/s/good\t0.007s\n1 passed, 0 failed\n",
		},
		{
			name:  "skipped test prints why and is counted",
			input: skipTest + passPkg,
			want: "    g_test.go:4: no redis\n--- SKIP: TestSkip (0.00s)\n" +
				"ok  \texample.com/s/good\t0.007s\n1 passed, 0 failed, 1 skipped\n",
		},
		{
			name:  "failed subtest prints its output and its parent's, not its passing sibling's",
			input: failSubtest,
			want: "=== RUN   TestSub\n=== RUN   TestSub/bad\n    b_test.go:5: want 1, got 2\n" +
				"--- FAIL: TestSub/bad (0.00s)\n--- FAIL: TestSub (0.00s)\n" +
				"FAIL\nFAIL\texample.com/s/bad\t0.004s\n" +
				"1 passed, 2 failed\n",
			wantErr: true,
		},
		{
			name:  "build failure prints the compiler's message and counts as a failure",
			input: buildFail + passPkg,
			want: "# example.com/s/broken [example.com/s/broken.test]\n" +
				"broken/x.go:2:23: cannot use \"x\" (untyped string constant) as int value in return statement\n" +
				"FAIL\texample.com/s/broken [build failed]\n" +
				"ok  \texample.com/s/good\t0.007s\n" +
				"1 passed, 1 failed\n",
			wantErr: true,
		},
		{
			name:  "package without tests prints nothing",
			input: noTests + passPkg,
			want:  "ok  \texample.com/s/good\t0.007s\n1 passed, 0 failed\n",
		},
		{
			name:  "package panic prints the unfinished test and the panic",
			input: panicPkg,
			want: "=== RUN   TestHang\npanic: boom\nFAIL\texample.com/s/p\t0.010s\n" +
				"0 passed, 1 failed\n",
			wantErr: true,
		},
		{
			name:    "non-JSON lines pass through",
			input:   "go: downloading example.com/x v1.0.0\n" + passPkg,
			want:    "go: downloading example.com/x v1.0.0\nok  \texample.com/s/good\t0.007s\n1 passed, 0 failed\n",
			wantErr: false,
		},
		{
			name:    "no results at all is a failure",
			input:   "go: go.work requires go >= 2.0\n",
			want:    "go: go.work requires go >= 2.0\ntestsum: no package results in the input\n0 passed, 0 failed\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runTestsum(strings.NewReader(tt.input), &out, "")
			assert.Equal(t, tt.want, out.String())
			if tt.wantErr {
				require.Error(t, err)
				assert.Equal(t, exitCode(1), err)
			} else {
				require.NoError(t, err)
			}
		})
	}
}
