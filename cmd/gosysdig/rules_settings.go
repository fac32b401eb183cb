package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gosysdig/gosysdig/alerts"
)

// alertSettings are the alert outputs and their queueing, from the --out-* flags and Falco's
// -o settings.
type alertSettings struct {
	opt         alerts.Options
	json        bool
	files       []string
	programs    []string
	urls        []string
	httpTimeout time.Duration
}

// alertSettingNames are the Falco settings `gosysdig rules -o` accepts.
var alertSettingNames = []string{
	"outputs_queue.capacity", "output_timeout", "buffered_outputs", "json_output",
	"file_output.filename", "program_output.program", "http_output.url",
	"http_output.timeout", "http_output.retry_for", "outputs_queue.drop_alerts",
}

func parseAlertSettings(ro *rulesOptions) (*alertSettings, error) {
	c := &alertSettings{json: ro.json, files: ro.outFile, programs: ro.outProgram, urls: ro.outHTTP,
		httpTimeout: 5 * time.Second, opt: alerts.Options{DropAlerts: true}}
	if ro.read != "" {
		// Reading a capture: outputs that work are waited for (nothing is lost by waiting),
		// and get up to 30 s at the end to write what they hold.
		c.opt.Backpressure, c.opt.CloseTimeout = true, 30*time.Second
	}
	for _, kv := range ro.config {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("-o %q: want key=value", kv)
		}
		var err error
		switch k {
		case "outputs_queue.capacity":
			var n int
			if n, err = strconv.Atoi(v); err == nil && n < 0 {
				err = fmt.Errorf("negative")
			}
			// Falco's 0 means unbounded; gosysdig's queues are always bounded: 0 is the default.
			c.opt.QueueCapacity = n
		case "output_timeout": // milliseconds, as Falco's
			c.opt.WriteTimeout, err = millis(v)
		case "http_output.timeout":
			c.httpTimeout, err = millis(v)
		case "http_output.retry_for":
			c.opt.RetryFor, err = millis(v)
		case "buffered_outputs":
			c.opt.Buffered, err = strconv.ParseBool(v)
		case "outputs_queue.drop_alerts":
			c.opt.DropAlerts, err = strconv.ParseBool(v)
		case "json_output":
			c.json, err = strconv.ParseBool(v)
		case "file_output.filename":
			c.files = append(c.files, v)
		case "program_output.program":
			c.programs = append(c.programs, v)
		case "http_output.url":
			c.urls = append(c.urls, v)
		default:
			return nil, fmt.Errorf("-o %q: unknown setting (known: %s)", k, strings.Join(alertSettingNames, ", "))
		}
		if err != nil {
			return nil, fmt.Errorf("-o %s: bad value %q: %v", k, v, err)
		}
	}
	return c, nil
}

// millis reads a positive number of milliseconds.
func millis(v string) (time.Duration, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a positive number of milliseconds")
	}
	return time.Duration(n) * time.Millisecond, nil
}
