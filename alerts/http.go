package alerts

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gosysdig/gosysdig/rules"
)

// HTTPOutput POSTs each alert as Falco's JSON (what Falcosidekick and webhooks expect), with a
// timeout per request; the dispatcher retries failures with backoff.
type HTTPOutput struct {
	url     string
	timeout time.Duration
	f       Format
	client  *http.Client
}

// NewHTTPOutput posts to url; timeout bounds each request (connection, sending and the
// answer).
func NewHTTPOutput(url, hostname string, timeout time.Duration) *HTTPOutput {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = timeout
	return &HTTPOutput{url: url, timeout: timeout, f: Format{JSON: true, Hostname: hostname},
		client: &http.Client{Timeout: timeout, Transport: tr}}
}

func (o *HTTPOutput) Name() string { return "http " + o.url }

func (o *HTTPOutput) Write(ctx context.Context, a *rules.Alert) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(o.f.Line(a)))
	if err != nil {
		return &PermanentError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gosysdig")
	resp, err := o.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests &&
		resp.StatusCode != http.StatusRequestTimeout:
		// The receiver refuses this alert: sending it again will not help.
		return &PermanentError{fmt.Errorf("HTTP status %s", resp.Status)}
	}
	return fmt.Errorf("HTTP status %s", resp.Status)
}

// Timeout is the deadline of one request.
func (o *HTTPOutput) Timeout() time.Duration { return o.timeout }

func (o *HTTPOutput) Flush(ctx context.Context) error { return nil }

func (o *HTTPOutput) Close(ctx context.Context) error {
	o.client.CloseIdleConnections()
	return nil
}
