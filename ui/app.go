package ui

import (
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/gosysdig/gosysdig/filter"
)

// Config is what the UI command gives the UI.
type Config struct {
	Replay   bool   // browsing a capture: event-time intervals, the replay reruns on a new query
	Source   string // the capture's name, or "live"
	Interval time.Duration
	View     *View  // start view
	Filter   string // the command line's filter, applied by the pipeline itself
	// Run feeds the sink from the pipeline: in replay, reads the capture once (called again for
	// each new query); live, runs until the process ends.
	Run func(s *Sink) error
	// Stats returns the live probe's event and drop counters.
	Stats  func() (events, drops uint64)
	Stop   error        // the error that ends a replay early
	Screen tcell.Screen // nil: the terminal
}

type frame struct {
	view  *View
	mode  Mode
	drill string // filter the drill-down that opened this frame added ("": none)
	sel   string // the selected row's key, kept across refreshes
}

type ui struct {
	cfg    Config
	app    *tview.Application
	pages  *tview.Pages
	head   *tview.TextView
	table  *tview.Table
	status *tview.TextView
	keys   *tview.TextView
	input  *tview.InputField
	bottom *tview.Flex
	sink   *Sink
	plain  bool

	stack    []frame
	user     string // the F4 filter
	errMsg   string
	search   string
	sortCol  int
	sortAsc  bool
	paused   bool
	last     *Table
	rate     float64
	drops    uint64
	done     bool // replay finished
	inputFor string

	restart  chan struct{}
	panicMu  sync.Mutex
	panicked any
	stack2   []byte
	runErr   error
}

// Run shows the UI until the user quits.
func Run(cfg Config) error {
	screen := cfg.Screen
	forcePlain := false
	if screen == nil {
		if err := needTerminal(); err != nil {
			return err
		}
		var err error
		screen, err = tcell.NewScreen()
		if term := os.Getenv("TERM"); err != nil && (term == "" || term == "dumb") {
			// A dumb terminal gets the plainest cursor-addressable one, without colours.
			os.Setenv("TERM", "vt100")
			screen, err = tcell.NewScreen()
			forcePlain = true
		}
		if err != nil {
			return fmt.Errorf("cannot start the UI on this terminal (TERM=%q): %v", os.Getenv("TERM"), err)
		}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	u := &ui{cfg: cfg, app: tview.NewApplication(), restart: make(chan struct{}, 1)}
	u.app.SetScreen(screen)
	u.plain = forcePlain || screen.Colors() < 8 || os.Getenv("NO_COLOR") != ""
	u.sink = NewSink(cfg.Replay, uint64(cfg.Interval), cfg.Stop)
	u.build()
	u.stack = []frame{{view: cfg.View}}
	u.resetSort()
	if err := u.apply(); err != nil {
		screen.Fini()
		return err
	}
	if cfg.Replay {
		u.sink.Publish = func(t *Table) { u.app.QueueUpdateDraw(func() { u.show(t) }) }
		go u.guard(u.replayLoop)
	} else {
		go u.guard(func() {
			err := cfg.Run(u.sink)
			u.app.QueueUpdateDraw(func() {
				u.runErr = err
				if err != nil {
					u.app.Stop()
				}
			})
		})
		go u.guard(u.liveTicker)
	}
	err := u.runApp()
	u.panicMu.Lock()
	p, st := u.panicked, u.stack2
	u.panicMu.Unlock()
	if p != nil {
		return &PanicError{Value: p, Stack: st}
	}
	if err != nil {
		return err
	}
	return u.runErr
}

// PanicError is a panic of the UI or its pipeline, reported once the terminal is restored.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v\n\n%s", e.Value, e.Stack) }

// runApp runs the event loop; tview restores the terminal on a panic, which is then returned.
func (u *ui) runApp() (err error) {
	defer func() {
		if p := recover(); p != nil {
			u.panicMu.Lock()
			u.panicked, u.stack2 = p, debug.Stack()
			u.panicMu.Unlock()
		}
	}()
	return u.app.Run()
}

// guard runs fn; a panic stops the UI, which restores the terminal before it is reported.
func (u *ui) guard(fn func()) {
	defer func() {
		if p := recover(); p != nil {
			u.panicMu.Lock()
			u.panicked, u.stack2 = p, debug.Stack()
			u.panicMu.Unlock()
			u.app.Stop()
		}
	}()
	fn()
}

func (u *ui) replayLoop() {
	for range u.restart {
		u.sink.BeginRun()
		err := u.cfg.Run(u.sink)
		if u.sink.Stale() {
			continue // a new query is waiting in restart
		}
		t := u.sink.Final()
		u.app.QueueUpdateDraw(func() {
			u.done = true
			if err != nil {
				u.errMsg = err.Error()
			}
			u.show(t)
		})
	}
}

func (u *ui) liveTicker() {
	tick := time.NewTicker(u.cfg.Interval)
	defer tick.Stop()
	start := time.Now()
	var lastEv, lastDrops uint64
	for now := range tick.C {
		secs := now.Sub(start).Seconds()
		start = now
		t, n := u.sink.Snapshot(true, secs)
		var drops uint64
		if u.cfg.Stats != nil {
			ev, dr := u.cfg.Stats()
			if ev >= lastEv {
				n = ev - lastEv
			}
			lastEv = ev
			drops = dr - lastDrops
			lastDrops = dr
		}
		u.app.QueueUpdateDraw(func() {
			u.rate = float64(n) / secs
			u.drops = drops
			if !u.paused {
				u.show(t)
			}
		})
	}
}

func (u *ui) build() {
	u.head = tview.NewTextView().SetDynamicColors(true)
	u.status = tview.NewTextView().SetDynamicColors(true)
	u.keys = tview.NewTextView().SetDynamicColors(true)
	u.table = tview.NewTable().SetFixed(1, 0).SetSelectable(true, false).SetSeparator(' ')
	u.input = tview.NewInputField()
	sel := tcell.StyleDefault.Reverse(true)
	if !u.plain {
		u.head.SetBackgroundColor(tcell.ColorDarkCyan)
		u.keys.SetBackgroundColor(tcell.ColorBlack)
		sel = tcell.StyleDefault.Background(tcell.ColorDarkCyan).Foreground(tcell.ColorBlack)
	} else {
		u.head.SetBackgroundColor(tcell.ColorDefault)
		u.status.SetBackgroundColor(tcell.ColorDefault)
		u.keys.SetBackgroundColor(tcell.ColorDefault)
		u.table.SetBackgroundColor(tcell.ColorDefault)
		u.input.SetBackgroundColor(tcell.ColorDefault)
		u.input.SetFieldStyle(tcell.StyleDefault.Underline(true))
	}
	u.table.SetSelectedStyle(sel)
	u.keys.SetText(u.keyBar())
	u.input.SetDoneFunc(u.inputDone)
	u.bottom = tview.NewFlex().AddItem(u.keys, 0, 1, false)
	main := tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(u.head, 1, 0, false).
		AddItem(u.table, 0, 1, true).
		AddItem(u.status, 1, 0, false).
		AddItem(u.bottom, 1, 0, false)
	u.pages = tview.NewPages().AddPage("main", main, true, true)
	u.app.SetRoot(u.pages, true).EnableMouse(true)
	u.app.SetInputCapture(u.onKey)
	u.table.SetMouseCapture(u.onMouse)
}

func (u *ui) keyBar() string {
	k := func(key, what string) string {
		if u.plain {
			return key + what + " "
		}
		return "[black:teal]" + key + "[-:-]" + what + " "
	}
	return k("F2", "Views") + k("F4", "Filter") + k("F5", "Echo") + k("F6", "Dig") + k("F9", "Sort") +
		k("Enter", "Drill") + k("Bksp", "Back") + k("/", "Search") + k("p", "Pause") + k("q", "Quit")
}

func (u *ui) top() *frame { return &u.stack[len(u.stack)-1] }

// query composes the sink's query for the top frame: view filter, drill-downs, F4 filter.
func (u *ui) query(user string) Query {
	f := u.top()
	var parts []string
	if f.view.Filter != "" {
		parts = append(parts, "("+f.view.Filter+")")
	}
	for _, fr := range u.stack {
		if fr.drill != "" {
			parts = append(parts, "("+fr.drill+")")
		}
	}
	if strings.TrimSpace(user) != "" {
		parts = append(parts, "("+user+")")
	}
	return Query{View: f.view, Mode: f.mode, Filter: strings.Join(parts, " and ")}
}

// apply sends the current query to the sink (and restarts a replay).
func (u *ui) apply() error {
	if err := u.sink.SetQuery(u.query(u.user)); err != nil {
		return err
	}
	u.done = false
	u.last = nil
	u.render()
	if u.cfg.Replay {
		select {
		case u.restart <- struct{}{}:
		default:
		}
	}
	return nil
}

func (u *ui) resetSort() {
	v := u.top().view
	u.sortCol = v.Sort
	u.sortAsc = u.top().mode != ModeTable || v.IsList() || v.Cols[v.Sort].Fmt == FmtText
	if v.IsList() {
		u.sortCol = -1
	}
}

func (u *ui) show(t *Table) {
	if t.Query != u.query(u.user) {
		return // a snapshot of a query the user has left
	}
	u.last = t
	u.render()
}

func (u *ui) render() {
	f := u.top()
	title := "Viewing: " + f.view.Name
	switch f.mode {
	case ModeDig:
		title = "Dig: " + f.view.Name
	case ModeEcho:
		title = "Echo: " + f.view.Name
	}
	var fors []string
	for _, fr := range u.stack {
		if fr.drill != "" {
			fors = append(fors, fr.drill)
		}
	}
	scope := "whole machine"
	if len(fors) > 0 {
		scope = strings.Join(fors, " and ")
	}
	src := "live"
	if u.cfg.Replay {
		src = u.cfg.Source
	}
	u.head.SetText(tview.Escape(fmt.Sprintf("%s  For: %s  Source: %s", title, scope, src)))
	u.renderStatus()
	u.table.Clear()
	t := u.last
	if f.mode != ModeTable {
		u.table.SetCell(0, 0, u.headCell(""))
		if t != nil {
			for i, l := range t.Lines {
				u.table.SetCell(i+1, 0, tview.NewTableCell(tview.Escape(l)).SetExpansion(1))
			}
		}
		u.restoreSelection(t)
		return
	}
	// A tview table drawn once with fewer rows than the screen (an early refresh, an empty
	// table) "tracks its end" from then on, showing its last rows when it grows: a replayed
	// capture's final table came up scrolled to its bottom with the selection off screen.
	// Setting the offset it has stops that (the text modes, echo and dig, keep following
	// their end); the selection below still scrolls to be visible.
	u.table.SetOffset(u.table.GetOffset())
	var cols []Col
	for _, c := range f.view.Cols {
		if c.Width >= 0 {
			cols = append(cols, c)
		}
	}
	for i, c := range cols {
		name := c.Name
		if i == u.sortCol {
			name += map[bool]string{true: "^", false: "v"}[u.sortAsc]
		}
		cell := u.headCell(padTo(name, c.Width))
		if c.Width == 0 {
			cell.SetExpansion(1)
		}
		u.table.SetCell(0, i, cell)
	}
	if t == nil {
		u.table.Select(0, 0)
		return
	}
	u.sortRows(t.Rows)
	for r, row := range t.Rows {
		for i, c := range cols {
			cell := tview.NewTableCell(tview.Escape(padTo(row.Cells[i], c.Width)))
			if c.Width > 0 {
				cell.SetMaxWidth(c.Width)
			} else {
				cell.SetExpansion(1)
			}
			u.table.SetCell(r+1, i, cell)
		}
	}
	u.restoreSelection(t)
}

func (u *ui) headCell(s string) *tview.TableCell {
	c := tview.NewTableCell(tview.Escape(s)).SetSelectable(false)
	if u.plain {
		c.SetAttributes(tcell.AttrReverse)
	} else {
		c.SetBackgroundColor(tcell.ColorGreen).SetTextColor(tcell.ColorBlack)
	}
	return c
}

func padTo(s string, w int) string {
	if w > 0 && len(s) < w {
		return s + strings.Repeat(" ", w-len(s))
	}
	return s
}

func (u *ui) sortRows(rows []Row) {
	c := u.sortCol
	if c < 0 {
		return
	}
	num := u.top().view.Cols[c].Fmt != FmtText
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if num && a.Nums[c] != b.Nums[c] {
			return (a.Nums[c] < b.Nums[c]) == u.sortAsc
		}
		if !num && a.Cells[c] != b.Cells[c] {
			return (a.Cells[c] < b.Cells[c]) == u.sortAsc
		}
		return a.Drill < b.Drill
	})
}

func (u *ui) restoreSelection(t *Table) {
	f := u.top()
	if t == nil {
		return
	}
	want := 1
	if f.mode == ModeTable && f.sel != "" {
		for i, r := range t.Rows {
			if r.Drill == f.sel {
				want = i + 1
				break
			}
		}
	} else if f.mode != ModeTable {
		if r, _ := u.table.GetSelection(); r > 0 {
			want = r
		}
	}
	if want < u.table.GetRowCount() {
		u.table.Select(want, 0)
	}
}

func (u *ui) renderStatus() {
	var b strings.Builder
	flt := u.user
	if u.cfg.Filter != "" {
		flt = strings.TrimSpace(u.cfg.Filter + " " + map[bool]string{true: "and " + u.user}[u.user != ""])
	}
	if flt == "" {
		flt = "none"
	}
	fmt.Fprintf(&b, "Filter: %s", flt)
	if u.cfg.Replay {
		if u.done {
			b.WriteString("  Replay: done")
		} else {
			b.WriteString("  Replay: reading")
		}
		if u.last != nil {
			fmt.Fprintf(&b, " (%.3fs of events)", u.last.Secs)
		}
	} else {
		fmt.Fprintf(&b, "  Evts/s: %s  Drops: %d", strconv.FormatFloat(u.rate, 'f', 0, 64), u.drops)
	}
	if u.last != nil {
		n := len(u.last.Rows) + len(u.last.Lines)
		fmt.Fprintf(&b, "  Rows: %d", n)
	}
	if u.paused {
		b.WriteString("  PAUSED")
	}
	text := tview.Escape(b.String())
	if u.errMsg != "" {
		// An error takes the whole line, so that its column and message show.
		text = tview.Escape("Error: " + u.errMsg)
		if !u.plain {
			text = "[red::b]" + text + "[-::-]"
		}
	}
	u.status.SetText(text)
}

// selected returns the selected row of a table view, or nil.
func (u *ui) selected() *Row {
	r, _ := u.table.GetSelection()
	if u.last == nil || u.top().mode != ModeTable || r < 1 || r > len(u.last.Rows) {
		return nil
	}
	return &u.last.Rows[r-1]
}

func (u *ui) rememberSelection() {
	if row := u.selected(); row != nil {
		u.top().sel = row.Drill
	}
}

// selectionFilter is the filter that picks the selected row's events.
func (u *ui) selectionFilter() string {
	row := u.selected()
	f := u.top()
	if row == nil || f.view.IsList() {
		return ""
	}
	return f.view.drillField() + "=" + quote(row.Drill)
}

func quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '/' || r == '-' || r == ':')
	}) < 0 {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (u *ui) push(fr frame) {
	u.rememberSelection()
	u.stack = append(u.stack, fr)
	u.resetSort()
	u.errMsg = ""
	if err := u.apply(); err != nil {
		u.stack = u.stack[:len(u.stack)-1]
		u.resetSort()
		u.errMsg = err.Error()
		u.render()
	}
}

func (u *ui) drill() {
	f := u.top()
	if f.mode != ModeTable || f.view.Drill == "" {
		return
	}
	sf := u.selectionFilter()
	if sf == "" {
		return
	}
	u.push(frame{view: FindView(f.view.Drill), drill: sf})
}

func (u *ui) stream(m Mode) {
	f := u.top()
	if f.mode != ModeTable {
		return
	}
	u.push(frame{view: f.view, mode: m, drill: u.selectionFilter()})
}

func (u *ui) back() {
	if len(u.stack) == 1 {
		return
	}
	u.stack = u.stack[:len(u.stack)-1]
	u.resetSort()
	u.errMsg = ""
	_ = u.apply()
}

func (u *ui) setView(v *View) {
	u.top().view, u.top().mode, u.top().sel = v, ModeTable, ""
	u.resetSort()
	u.errMsg = ""
	_ = u.apply()
}

func (u *ui) onKey(ev *tcell.EventKey) *tcell.EventKey {
	if u.pages.HasPage("modal") || u.app.GetFocus() == u.input {
		return ev
	}
	switch ev.Key() {
	case tcell.KeyF2:
		u.picker("Views", viewNames(), func(i int) { u.setView(Views[i]) })
	case tcell.KeyF4:
		u.ask("filter", "Filter: ", u.user)
	case tcell.KeyF5:
		u.stream(ModeEcho)
	case tcell.KeyF6:
		u.stream(ModeDig)
	case tcell.KeyF9:
		u.sortPicker()
	case tcell.KeyF10, tcell.KeyCtrlC:
		u.app.Stop()
	case tcell.KeyEnter:
		u.drill()
	case tcell.KeyBackspace, tcell.KeyBackspace2, tcell.KeyEscape:
		u.back()
	case tcell.KeyRune:
		switch ev.Rune() {
		case 'q':
			u.app.Stop()
		case 'e':
			u.stream(ModeEcho)
		case 'd':
			u.stream(ModeDig)
		case '>':
			u.sortPicker()
		case '/':
			u.ask("search", "Search: ", u.search)
		case 'n':
			u.find(u.search, true)
		case 'p':
			u.paused = !u.paused
			u.renderStatus()
		case '!':
			if os.Getenv("GOSYSDIG_UI_TEST_PANIC") == "1" { // tests: the terminal after a panic
				panic("test panic")
			}
			return ev
		default:
			return ev
		}
	default:
		return ev
	}
	return nil
}

func (u *ui) onMouse(action tview.MouseAction, ev *tcell.EventMouse) (tview.MouseAction, *tcell.EventMouse) {
	if action != tview.MouseLeftClick && action != tview.MouseLeftDoubleClick {
		return action, ev
	}
	x, y := ev.Position()
	row, col := u.table.CellAt(x, y)
	if row == 0 && col >= 0 && u.top().mode == ModeTable {
		u.sortBy(col)
		return tview.MouseConsumed, nil
	}
	if action == tview.MouseLeftDoubleClick && row > 0 {
		u.table.Select(row, 0)
		u.drill()
		return tview.MouseConsumed, nil
	}
	return action, ev
}

func (u *ui) sortBy(col int) {
	if col == u.sortCol {
		u.sortAsc = !u.sortAsc
	} else {
		u.sortCol = col
		u.sortAsc = u.top().view.Cols[col].Fmt == FmtText
	}
	u.rememberSelection()
	u.render()
}

func (u *ui) sortPicker() {
	if u.top().mode != ModeTable {
		return
	}
	var names []string
	for _, c := range u.top().view.Cols {
		if c.Width >= 0 {
			names = append(names, c.Name)
		}
	}
	u.picker("Sort by", names, u.sortBy)
}

func viewNames() []string {
	var n []string
	for _, v := range Views {
		n = append(n, v.Name)
	}
	return n
}

// picker shows a list over the table; choose gets the picked index.
func (u *ui) picker(title string, items []string, choose func(int)) {
	l := tview.NewList().ShowSecondaryText(false)
	l.SetBorder(true).SetTitle(" " + title + " ")
	w := len(title) + 4
	for _, it := range items {
		l.AddItem(it, "", 0, nil)
		if len(it)+4 > w {
			w = len(it) + 4
		}
	}
	l.SetSelectedFunc(func(i int, _, _ string, _ rune) {
		u.pages.RemovePage("modal")
		u.app.SetFocus(u.table)
		choose(i)
	})
	l.SetDoneFunc(func() {
		u.pages.RemovePage("modal")
		u.app.SetFocus(u.table)
	})
	h := len(items) + 2
	grid := tview.NewFlex().AddItem(nil, 0, 1, false).
		AddItem(tview.NewFlex().SetDirection(tview.FlexRow).AddItem(nil, 0, 1, false).
			AddItem(l, h, 0, true).AddItem(nil, 0, 1, false), w, 0, true).
		AddItem(nil, 0, 1, false)
	u.pages.AddPage("modal", grid, true, true)
	u.app.SetFocus(l)
}

// ask opens the input line in place of the key bar.
func (u *ui) ask(what, label, text string) {
	u.inputFor = what
	u.input.SetLabel(label).SetText(text)
	u.bottom.Clear().AddItem(u.input, 0, 1, true)
	u.app.SetFocus(u.input)
}

func (u *ui) closeInput() {
	u.bottom.Clear().AddItem(u.keys, 0, 1, false)
	u.app.SetFocus(u.table)
}

func (u *ui) inputDone(key tcell.Key) {
	text := u.input.GetText()
	if key != tcell.KeyEnter {
		u.closeInput()
		u.errMsg = ""
		u.renderStatus()
		return
	}
	switch u.inputFor {
	case "filter":
		old := u.user
		u.user = text
		err := error(nil)
		if strings.TrimSpace(text) != "" {
			_, err = filter.Compile(text) // alone, so that the error's column is the text's
		}
		if err == nil {
			err = u.apply()
		}
		if err != nil {
			// A bad filter keeps the view as it was and the text for fixing.
			u.user = old
			u.errMsg = "bad filter: " + err.Error()
			u.renderStatus()
			return
		}
		u.errMsg = ""
		u.closeInput()
		u.render()
	case "search":
		u.search = text
		u.closeInput()
		u.find(text, false)
	}
}

// find selects the next row containing text.
func (u *ui) find(text string, next bool) {
	if text == "" {
		return
	}
	n := u.table.GetRowCount()
	start, _ := u.table.GetSelection()
	if !next {
		start--
	}
	for i := 1; i < n; i++ {
		r := (start+i-1)%(n-1) + 1
		for c := 0; c < u.table.GetColumnCount(); c++ {
			if cell := u.table.GetCell(r, c); cell != nil && strings.Contains(cell.Text, text) {
				u.table.Select(r, 0)
				u.rememberSelection()
				u.errMsg = ""
				u.renderStatus()
				return
			}
		}
	}
	u.errMsg = fmt.Sprintf("%q not found", text)
	u.renderStatus()
}
