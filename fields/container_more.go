package fields

import (
	"path"

	"github.com/gosysdig/gosysdig/state"
)

// containerOf returns the container of the event's thread; nil for host threads and unknown
// containers.
func containerOf(c *Ctx) *state.Container {
	t := thread(c)
	if t == nil || t.ContainerID == "" {
		return nil
	}
	return c.In.Containers.Get(t.ContainerID)
}

func appendMount(b []byte, m *state.Mount) []byte {
	b = append(b, m.Source...)
	b = append(b, ':')
	b = append(b, m.Dest...)
	b = append(b, ':')
	b = append(b, m.Mode...)
	b = append(b, ':')
	if m.RW {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	b = append(b, ':')
	return append(b, m.Propagation...)
}

// mountByArg picks a mount by index (container.mount[0]) or by a glob on its source (or, with
// byDest, on its destination).
func mountByArg(ct *state.Container, a *Arg, byDest bool) *state.Mount {
	if a.HasN {
		if a.N < 0 || a.N >= len(ct.Mounts) {
			return nil
		}
		return &ct.Mounts[a.N]
	}
	for i := range ct.Mounts {
		m := &ct.Mounts[i]
		s := m.Source
		if byDest {
			s = m.Dest
		}
		if ok, _ := path.Match(a.Raw, s); ok {
			return m
		}
	}
	return nil
}

func mountField(name, desc string, byDest bool, get func(c *Ctx, m *state.Mount) (Value, bool)) *Field {
	return &Field{Name: name, Kind: KString, Arg: ArgRequired, Desc: desc, Extract: func(c *Ctx, a *Arg) (Value, bool) {
		ct := containerOf(c)
		if ct == nil {
			return Value{}, false
		}
		m := mountByArg(ct, a, byDest)
		if m == nil {
			return Value{}, false
		}
		return get(c, m)
	}}
}

func probeField(name, desc string, typ int) *Field {
	return &Field{Name: name, Kind: KString, Desc: desc, Extract: func(c *Ctx, a *Arg) (Value, bool) {
		ct := containerOf(c)
		if ct == nil {
			return Value{}, false
		}
		for i := range ct.HealthProbes {
			p := &ct.HealthProbes[i]
			if p.Type != typ {
				continue
			}
			b := append(c.buf(0), p.Exe...)
			for _, s := range p.Args {
				b = append(append(b, ' '), s...)
			}
			return bstr(c.keep(0, b))
		}
		return sstr("NONE")
	}}
}

func init() {
	register("container",
		&Field{Name: "container.mounts", Kind: KString, Desc: "the container's mounts, comma-separated, each as source:dest:mode:rdwr:propagation", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			ct := containerOf(c)
			if ct == nil {
				return Value{}, false
			}
			b := c.buf(0)
			for i := range ct.Mounts {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendMount(b, &ct.Mounts[i])
			}
			return bstr(c.keep(0, b))
		}},
		mountField("container.mount", "one mount as source:dest:mode:rdwr:propagation, by index (container.mount[0]) or source glob (container.mount[/usr/*])", false, func(c *Ctx, m *state.Mount) (Value, bool) {
			return bstr(c.keep(0, appendMount(c.buf(0), m)))
		}),
		mountField("container.mount.source", "a mount's source, by index or destination glob", true, func(c *Ctx, m *state.Mount) (Value, bool) { return sstr(m.Source) }),
		mountField("container.mount.dest", "a mount's destination, by index or source glob", false, func(c *Ctx, m *state.Mount) (Value, bool) { return sstr(m.Dest) }),
		mountField("container.mount.mode", "a mount's mode, by index or source glob", false, func(c *Ctx, m *state.Mount) (Value, bool) { return sstr(m.Mode) }),
		mountField("container.mount.rdwr", "whether a mount is read-write (true/false), by index or source glob", false, func(c *Ctx, m *state.Mount) (Value, bool) {
			if m.RW {
				return sstr("true")
			}
			return sstr("false")
		}),
		mountField("container.mount.propagation", "a mount's propagation, by index or source glob", false, func(c *Ctx, m *state.Mount) (Value, bool) { return sstr(m.Propagation) }),
		probeField("container.healthcheck", "the container's health check command line, NONE when it has none", 1),
		probeField("container.liveness_probe", "the container's liveness probe command line, NONE when it has none", 2),
		probeField("container.readiness_probe", "the container's readiness probe command line, NONE when it has none", 3),
	)
}
