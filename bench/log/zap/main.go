// zapbench — zap's side of bench/log: its production JSON encoder
// (zap.NewProductionEncoderConfig: "ts" epoch seconds, lowercase level,
// durations as float seconds), no caller, no sampling, writing through a
// 64 KiB zapcore.BufferedWriteSyncer to /dev/null — the same lines as
// log_bench.c, measured with testing.Benchmark (median of -rounds runs).
// Prints "zap <metric> <value>" lines for run.sh.
//
// Built offline, GOPATH mode, from Debian's golang-go.uber-zap-dev:
//
//	GO111MODULE=off GOPATH=<tmp>:/usr/share/gocode go build
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func newLogger() (*zap.Logger, *zapcore.BufferedWriteSyncer) {
	f, err := os.OpenFile("/dev/null", os.O_WRONLY, 0)
	if err != nil {
		panic(err)
	}
	ws := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(f), Size: 64 * 1024}
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, ws, zapcore.InfoLevel)), ws
}

func median(rounds int, fn func(b *testing.B)) (float64, float64) {
	ns := make([]float64, 0, rounds)
	var allocs float64
	for r := 0; r < rounds; r++ {
		res := testing.Benchmark(fn)
		ns = append(ns, float64(res.T.Nanoseconds())/float64(res.N))
		allocs = float64(res.MemAllocs) / float64(res.N)
	}
	sort.Float64s(ns)
	return ns[len(ns)/2], allocs
}

func main() {
	rounds := flag.Int("rounds", 5, "benchmark runs; the median is printed")
	testing.Init()
	flag.Parse()
	logger, ws := newLogger()
	defer ws.Stop()
	took := 1500 * time.Microsecond

	// info logs the benchmark's line with ratio(i) as the float field.
	info := func(ratio func(i int) float64) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				logger.Info("request handled", zap.String("path", "/v1/orders/42"),
					zap.Int("status", 200), zap.Float64("ratio", ratio(i)),
					zap.Bool("cached", true), zap.Duration("took", took))
			}
		}
	}
	ns, allocs := median(*rounds, info(func(int) float64 { return 0.25 }))
	fmt.Printf("zap json_5_fields %.1f\nzap allocs_per_line %.4f\n", ns, allocs)
	ns, _ = median(*rounds, info(func(i int) float64 { return float64(i) / 3.0 }))
	fmt.Printf("zap json_5_fields_hard_float %.1f\n", ns)
	ns, allocs = median(*rounds, func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			logger.Debug("request handled", zap.String("path", "/v1/orders/42"),
				zap.Int("status", 200), zap.Float64("ratio", 0.25),
				zap.Bool("cached", true), zap.Duration("took", took))
		}
	})
	fmt.Printf("zap disabled %.2f\nzap disabled_allocs %.4f\n", ns, allocs)
}
