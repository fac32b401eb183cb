package fields

// Container fields sysdig 0.29.3 does not have (later falcosecurity libs do): the container's IP
// address and its labels. Both are missing (<NA>) for host processes and for containers whose
// metadata is unknown.
func init() {
	register("container",
		&Field{Name: "container.ip", Kind: KString, Desc: "the container's IP address (gosysdig extension)", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			ct := containerOf(c)
			if ct == nil || ct.IP == "" {
				return Value{}, false
			}
			return sstr(ct.IP)
		}},
		&Field{Name: "container.label", Kind: KString, Arg: ArgRequired, Desc: "a container label's value, by key (container.label[maintainer]) (gosysdig extension)", Extract: func(c *Ctx, a *Arg) (Value, bool) {
			ct := containerOf(c)
			if ct == nil {
				return Value{}, false
			}
			v, ok := ct.Labels[a.Raw]
			if !ok {
				return Value{}, false
			}
			return sstr(v)
		}},
	)
}
