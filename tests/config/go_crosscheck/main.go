// Command crosscheck is the Go side of tests/config/go_crosscheck: it reads
// lines "d HEX" (time.ParseDuration) or "b HEX" (humanize.ParseBytes), the
// input hex-encoded so that any byte can be tested, and answers each with
// "ok VALUE" or "err". Built offline by run.sh with Go 1.19 in GOPATH mode.
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

func answer(kind string, s string) (string, bool) {
	switch kind {
	case "d":
		d, err := time.ParseDuration(s)
		if err != nil {
			return "err", true
		}
		return fmt.Sprintf("ok %d", int64(d)), true
	case "b":
		n, err := humanize.ParseBytes(s)
		if err != nil {
			return "err", true
		}
		return fmt.Sprintf("ok %d", n), true
	}
	return "", false
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		kind, hexText, _ := strings.Cut(in.Text(), " ")
		raw, err := hex.DecodeString(hexText)
		if err != nil {
			fmt.Fprintln(os.Stderr, "crosscheck: bad hex:", err)
			os.Exit(2)
		}
		line, ok := answer(kind, string(raw))
		if !ok {
			fmt.Fprintln(os.Stderr, "crosscheck: unknown kind", kind)
			os.Exit(2)
		}
		fmt.Fprintln(out, line)
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "crosscheck:", err)
		os.Exit(2)
	}
}
