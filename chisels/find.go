package chisels

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed builtin/*.lua
var builtinFS embed.FS

// StockDir is where sysdig installs its chisels.
const StockDir = "/usr/share/sysdig/chisels"

// builtinDir marks the embedded chisel set in a search path.
const builtinDir = "<builtin>"

// SearchDirs is the chisel search path, as sysdig's: ./chisels, ~/.chisels, the project's embedded
// chisels, then sysdig's installed ones.
func SearchDirs() []string {
	dirs := []string{"./chisels/"}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		dirs = append(dirs, filepath.Join(home, ".chisels")+"/")
	}
	return append(dirs, builtinDir, StockDir+"/")
}

// source is a chisel or module's code and where it came from.
type source struct {
	name  string // chunk name: the file path, or builtin/NAME.lua
	dir   string // the folder, for package.path ("" for embedded)
	code  []byte
	embed bool
}

func readIn(dir, file string) (*source, bool) {
	if dir == builtinDir {
		b, err := builtinFS.ReadFile("builtin/" + file)
		if err != nil {
			return nil, false
		}
		return &source{name: "builtin/" + file, code: b, embed: true}, true
	}
	p := dir + file
	st, err := os.Stat(p)
	if err != nil || st.IsDir() {
		return nil, false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	return &source{name: p, dir: filepath.Dir(p) + "/", code: b}, true
}

// find locates a chisel: a path to a file, or a name looked up as NAME.lua then NAME in dirs.
func find(name string, dirs []string) (*source, error) {
	if strings.ContainsRune(name, '/') || strings.HasSuffix(name, ".lua") {
		if b, err := os.ReadFile(name); err == nil {
			return &source{name: name, dir: filepath.Dir(name) + "/", code: b}, nil
		}
	}
	for _, file := range []string{name + ".lua", name} {
		for _, d := range dirs {
			if s, ok := readIn(d, file); ok {
				return s, nil
			}
		}
	}
	return nil, fmt.Errorf("chisel %s not found - use -cl to list them.", name)
}

// Arg describes one chisel argument.
type Arg struct {
	Name, Type, Desc string
	Optional         bool
}

// Info is what a chisel declares about itself.
type Info struct {
	Name, Desc, ShortDesc, Category string
	Args                            []Arg
	Hidden                          bool
}

// List returns the chisels of dirs, first one of each name wins, skipping hidden chisels and
// views, as sysdig -cl does.
func List(dirs []string) []Info {
	seen := map[string]bool{}
	var out []Info
	for _, d := range dirs {
		var names []string
		if d == builtinDir {
			ents, _ := fs.ReadDir(builtinFS, "builtin")
			for _, e := range ents {
				names = append(names, e.Name())
			}
		} else {
			ents, err := os.ReadDir(d)
			if err != nil {
				continue
			}
			for _, e := range ents {
				names = append(names, e.Name())
			}
		}
		for _, n := range names {
			if !strings.HasSuffix(n, ".lua") {
				continue
			}
			base := strings.TrimSuffix(n, ".lua")
			if seen[base] {
				continue
			}
			src, ok := readIn(d, n)
			if !ok {
				continue
			}
			info, ok := describe(src, dirs)
			if !ok || info.Hidden {
				continue
			}
			seen[base] = true
			info.Name = base
			out = append(out, info)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Category != out[j].Category {
			return out[i].Category < out[j].Category
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Describe loads a chisel's declarations without running it.
func Describe(name string, dirs []string) (Info, error) {
	src, err := find(name, dirs)
	if err != nil {
		return Info{}, err
	}
	info, ok := describe(src, dirs)
	if !ok {
		return Info{}, fmt.Errorf("chisel %s not found - use -cl to list them.", name)
	}
	info.Name = name
	return info, nil
}

func describe(src *source, dirs []string) (Info, bool) {
	c := &Chisel{cfg: &Config{Out: io.Discard}, dirs: dirs}
	defer c.close()
	if err := c.open(src); err != nil {
		return Info{}, false
	}
	info := c.info
	if info.Desc == "" || (info.ShortDesc == "" && !c.hasShort) || !c.hasArgs {
		return Info{}, false
	}
	return info, true
}

const (
	descStart = 16
	lineLen   = 79
)

// WriteList prints chisels as sysdig -cl does.
func WriteList(w io.Writer, list []Info, verbose bool) {
	last := "\x00"
	for _, cd := range list {
		if cd.Category != last {
			full := "Category: " + cd.Category
			fmt.Fprintf(w, "\n%s\n%s\n", full, strings.Repeat("-", len(full)))
			last = cd.Category
		}
		io.WriteString(w, cd.Name)
		n := len(cd.Name)
		if n >= descStart {
			io.WriteString(w, "\n")
			n = 0
		}
		io.WriteString(w, strings.Repeat(" ", descStart-n))
		for l := 0; l < len(cd.ShortDesc); l++ {
			if l%(lineLen-descStart) == 0 && l != 0 {
				io.WriteString(w, "\n"+strings.Repeat(" ", descStart))
			}
			w.Write([]byte{cd.ShortDesc[l]})
		}
		io.WriteString(w, "\n")
	}
	if verbose {
		io.WriteString(w, "\nUse the -i flag to get detailed information about a specific chisel\n")
	}
}

// WriteInfo prints one chisel's description as sysdig -i does.
func WriteInfo(w io.Writer, cd Info) {
	WriteList(w, []Info{cd}, false)
	io.WriteString(w, "\n")
	for l := 0; l < len(cd.Desc); l++ {
		if l%lineLen == 0 && l != 0 {
			io.WriteString(w, "\n")
		}
		w.Write([]byte{cd.Desc[l]})
	}
	io.WriteString(w, "\n")
	astr := "Args:\n"
	if len(cd.Args) != 0 {
		for _, a := range cd.Args {
			astr += "[" + a.Type + "] " + a.Name + " - " + a.Desc + "\n"
		}
	} else {
		astr += "(None)"
	}
	linepos := 0
	for l := 0; l < len(astr); l, linepos = l+1, linepos+1 {
		if astr[l] == '\n' {
			linepos = -1
		} else if linepos%(lineLen-descStart) == 0 && linepos != 0 {
			io.WriteString(w, "\n"+strings.Repeat(" ", descStart))
		}
		w.Write([]byte{astr[l]})
	}
	io.WriteString(w, "\n")
}
