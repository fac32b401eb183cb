// Command scapdump prints a capture's header and raw events, for looking into traces by hand.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/gosysdig/gosysdig/capture"
	"github.com/gosysdig/gosysdig/event"
)

func main() {
	r, err := capture.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	h := r.Header()
	fmt.Printf("version %d.%d threads=%d users=%d groups=%d ifs=%d\n", h.Major, h.Minor, len(h.Threads), len(h.Users), len(h.Groups), len(h.Interfaces))
	for _, t := range h.Threads {
		fmt.Printf("thread tid=%d pid=%d ptid=%d vtid=%d vpid=%d comm=%q flags=%#x\n", t.Tid, t.Pid, t.Ptid, t.Vtid, t.Vpid, t.Comm, t.Flags)
		for _, f := range t.FDs {
			fmt.Printf("  fd=%d type=%d l4=%d sip=%x sport=%d dip=%x dport=%d src=%#x dst=%#x name=%q\n", f.Fd, f.Type, f.L4Proto, f.Sip, f.Sport, f.Dip, f.Dport, f.Source, f.Dest, f.Name)
		}
	}
	var ev event.Event
	for {
		err := r.Next(&ev)
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%d ts=%d cpu=%d tid=%d %c %s(%d) n=%d flags=%d", ev.Num, ev.TS, ev.CPU, ev.Tid, ev.Info.Dir, ev.Info.Name, ev.Type, ev.NParams(), ev.DumpFlags)
		for i := 0; i < ev.NParams(); i++ {
			fmt.Printf(" %s=%q", ev.Info.Params[i].Name, ev.Param(i))
		}
		fmt.Println()
	}
}
