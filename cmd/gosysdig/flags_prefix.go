package main

import (
	"strings"

	"github.com/spf13/pflag"
)

// abbreviateLongFlags makes fs accept a long flag by any unique prefix of its name, as sysdig's
// getopt_long does: sysdig documents --read and --write, whose real names are --readfile and
// --writefile, and users type --num for --numevents. An exact name always wins; an ambiguous
// prefix (--print-h: --print-hex or --print-hex-ascii) stays unknown, so pflag refuses it.
// Hidden flags match only by their full name. It must be called once every flag is defined: pflag normalizes names as they are added.
func abbreviateLongFlags(fs *pflag.FlagSet) {
	fs.SetNormalizeFunc(func(f *pflag.FlagSet, name string) pflag.NormalizedName {
		return pflag.NormalizedName(expandPrefix(f, name))
	})
}

func expandPrefix(f *pflag.FlagSet, name string) string {
	if name == "" {
		return name
	}
	// Not f.Lookup: it normalizes, which would call back here.
	match, exact, ambiguous := "", false, false
	f.VisitAll(func(fl *pflag.Flag) {
		switch {
		case fl.Name == name:
			exact = true
		case strings.HasPrefix(fl.Name, name) && !fl.Hidden:
			// Hidden flags (--ready-file, for tests) are not sysdig's: they must not make
			// sysdig's abbreviations (--read) ambiguous.
			if match != "" {
				ambiguous = true
			}
			match = fl.Name
		}
	})
	if exact || match == "" || ambiguous {
		return name
	}
	return match
}

// attachedOptionalValues rewrites -BVALUE as --bpf=VALUE: sysdig's -B takes an optional value
// attached to it (getopt's "B::"), which pflag would read as more short flags.
func attachedOptionalValues(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && strings.HasPrefix(a, "-B") && a[2] != '=' {
			a = "--bpf=" + a[2:]
		}
		out = append(out, a)
	}
	return out
}
