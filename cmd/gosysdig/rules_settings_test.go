package main

import (
	"strings"
	"testing"
	"time"
)

// Falco's -o settings for the outputs: accepted values reach the options, bad ones are refused
// with the setting named.
func TestRulesOutputSettings(t *testing.T) {
	ro := &rulesOptions{config: []string{"outputs_queue.capacity=10", "output_timeout=300", "buffered_outputs=true",
		"json_output=true", "http_output.url=http://127.0.0.1:1/", "http_output.timeout=700",
		"http_output.retry_for=5000", "program_output.program=cat", "file_output.filename=/tmp/x",
		"outputs_queue.drop_alerts=false"}}
	c, err := parseAlertSettings(ro)
	if err != nil {
		t.Fatal(err)
	}
	if c.opt.QueueCapacity != 10 || c.opt.WriteTimeout != 300*time.Millisecond || !c.opt.Buffered || !c.json ||
		len(c.urls) != 1 || c.httpTimeout != 700*time.Millisecond || c.opt.RetryFor != 5*time.Second ||
		len(c.programs) != 1 || len(c.files) != 1 || c.opt.DropAlerts {
		t.Errorf("settings not applied: %+v", c)
	}
	for _, bad := range []string{"outputs_queue.capacity=-1", "output_timeout=0", "buffered_outputs=maybe", "nope=1", "novalue"} {
		_, err := parseAlertSettings(&rulesOptions{config: []string{bad}})
		k, _, _ := strings.Cut(bad, "=")
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("-o %s: error %v", bad, err)
		}
	}
}

// A bad -o setting is a clear error and exit 1 from the command.
func TestRulesBadSettingExits(t *testing.T) {
	bin := buildBinary(t)
	_, errs, code := runBin(t, bin, "rules", "-r", "/nonexistent", "-o", "outputs_queue.capacity=x")
	if code != 1 || !strings.Contains(errs, "outputs_queue.capacity") {
		t.Errorf("exit %d: %s", code, errs)
	}
}
