package promscrape_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ipcord/ipcord/internal/promscrape"
)

func Example() {
	reg := prometheus.NewRegistry()
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "calls_total", Help: "Calls."}, []string{"route"})
	reg.MustRegister(calls)
	calls.WithLabelValues("ping").Add(3)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	fams, err := promscrape.Scrape(nil, srv.URL)
	if err != nil {
		panic(err)
	}
	v, ok := fams.Value("calls_total", map[string]string{"route": "ping"})
	fmt.Println(v, ok)
	_, ok = fams.Value("calls_total", map[string]string{"route": "pong"})
	fmt.Println(ok)
	// Output:
	// 3 true
	// false
}
