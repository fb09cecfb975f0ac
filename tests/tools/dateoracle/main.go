// Command dateoracle is the differential test of kstage's date functions
// (and of upper and lower, which share the Unicode tables of the regexp port)
// (installer/tmpl/funcs_dates.c over gotime.c) against Go's time package
// with Sprig v3's definitions of the functions (copied below from
// Masterminds/sprig date.go, as Helm ships them): it generates templates
// from a fixed seed (layouts with every reference-time element, epochs
// from the int64 extremes to sub-second ones, fixed offsets, IANA zones
// from the system's tzdata, invalid layouts, values and zones), executes
// them with Go's text/template, runs the C driver (tests/tools/datedriver)
// on the same templates and compares output or error text.
//
// Go reads the local zone once per process, so the cases run in one
// child process per $TZ value; the driver inherits the same $TZ.
//
// Usage: go run ./tools/dateoracle -driver PATH [-n CASES] [-seed N] [-v]
// Prints "date-oracle: TZ ...: N passed, M failed" per $TZ value; exits 1
// on any difference.
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// ---- Sprig v3's date functions (date.go), verbatim but for names ----

func date(fmt string, date interface{}) string { return dateInZone(fmt, date, "Local") }

func htmlDate(date interface{}) string { return dateInZone("2006-01-02", date, "Local") }

func htmlDateInZone(date interface{}, zone string) string { return dateInZone("2006-01-02", date, zone) }

func dateInZone(fmt string, date interface{}, zone string) string {
	var t time.Time
	switch date := date.(type) {
	default:
		t = time.Now()
	case time.Time:
		t = date
	case *time.Time:
		t = *date
	case int64:
		t = time.Unix(date, 0)
	case int:
		t = time.Unix(int64(date), 0)
	case int32:
		t = time.Unix(int64(date), 0)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc, _ = time.LoadLocation("UTC")
	}
	return t.In(loc).Format(fmt)
}

func dateModify(fmt string, date time.Time) time.Time {
	d, err := time.ParseDuration(fmt)
	if err != nil {
		return date
	}
	return date.Add(d)
}

func mustDateModify(fmt string, date time.Time) (time.Time, error) {
	d, err := time.ParseDuration(fmt)
	if err != nil {
		return time.Time{}, err
	}
	return date.Add(d), nil
}

func duration(sec interface{}) string {
	var n int64
	switch value := sec.(type) {
	default:
		n = 0
	case string:
		n, _ = strconv.ParseInt(value, 10, 64)
	case int64:
		n = value
	}
	return (time.Duration(n) * time.Second).String()
}

func durationRound(duration interface{}) string {
	var d time.Duration
	switch duration := duration.(type) {
	default:
		d = 0
	case string:
		d, _ = time.ParseDuration(duration)
	case int64:
		d = time.Duration(duration)
	case time.Time:
		d = time.Since(duration)
	}
	u := uint64(d)
	neg := d < 0
	if neg {
		u = -u
	}
	var (
		year   = uint64(time.Hour) * 24 * 365
		month  = uint64(time.Hour) * 24 * 30
		day    = uint64(time.Hour) * 24
		hour   = uint64(time.Hour)
		minute = uint64(time.Minute)
		second = uint64(time.Second)
	)
	switch {
	case u > year:
		return strconv.FormatUint(u/year, 10) + "y"
	case u > month:
		return strconv.FormatUint(u/month, 10) + "mo"
	case u > day:
		return strconv.FormatUint(u/day, 10) + "d"
	case u > hour:
		return strconv.FormatUint(u/hour, 10) + "h"
	case u > minute:
		return strconv.FormatUint(u/minute, 10) + "m"
	case u > second:
		return strconv.FormatUint(u/second, 10) + "s"
	}
	return "0s"
}

func toDate(fmt, str string) time.Time {
	t, _ := time.ParseInLocation(fmt, str, time.Local)
	return t
}

func mustToDate(fmt, str string) (time.Time, error) {
	return time.ParseInLocation(fmt, str, time.Local)
}

func unixEpoch(date time.Time) string { return strconv.FormatInt(date.Unix(), 10) }

// Sprig's toJson and int64 (for int literals, all the generator uses)
func toJSON(v interface{}) string {
	output, _ := json.Marshal(v)
	return string(output)
}

func toInt64(v interface{}) int64 { return int64(v.(int)) }

var funcs = template.FuncMap{
	"date": date, "date_in_zone": dateInZone, "dateInZone": dateInZone, "htmlDate": htmlDate,
	"htmlDateInZone": htmlDateInZone, "dateModify": dateModify, "date_modify": dateModify,
	"mustDateModify": mustDateModify, "must_date_modify": mustDateModify, "duration": duration,
	"durationRound": durationRound, "toDate": toDate, "mustToDate": mustToDate, "unixEpoch": unixEpoch,
	"toJson": toJSON, "int64": toInt64,
	// Sprig's upper and lower, over the Unicode tables the regexp port shares
	"upper": strings.ToUpper, "lower": strings.ToLower,
}

// text for upper and lower: letters of many scripts, the UpperLower
// alternations, runes whose case maps leave their block, invalid UTF-8
var caseRunes = []string{"a", "Z", "é", "É", "ß", "ſ", "ǅ", "ǈ", "Ǳ", "ı", "İ", "K", "Ω", "ω", "ς", "Σ", "ά",
	"ﬀ", "ǰ", "ɐ", "Ɐ", "ᲀ", "ꭰ", "Ꭰ", "Ａ", "ｚ", "𐐀", "𐐨", "𞤢", "𞤀", "ǆ", "Ā", "ā", "Ŀ", "ŀ", "Ÿ", "ÿ", "µ",
	"Ⅰ", "ⅰ", "Ⓐ", "ⓐ", "ꙁ", "Ꙁ", "ӏ", "Ӏ", "ꞵ", "Ꞵ", "\xff", "\xc3", "\xed\xa0\x80", "\uFFFD", "x", " ", "1"}

func (g gen) caseText() string {
	var b strings.Builder
	for i, n := 0, g.r.Intn(8); i < n; i++ {
		b.WriteString(g.pick(caseRunes))
	}
	return b.String()
}

func outcome(text string) string {
	t, err := template.New("t").Funcs(funcs).Parse(text)
	if err == nil {
		var b bytes.Buffer
		if err = t.Execute(&b, map[string]interface{}{}); err == nil {
			return "O " + hex.EncodeToString(b.Bytes())
		}
	}
	return "E " + hex.EncodeToString([]byte(err.Error()))
}

// ---- the generator ----

// layout elements: every std chunk of format.go, literals around them and
// near-misses ("Month", "_2006", "1.5", ".09")
var elems = []string{
	"January", "Jan", "1", "01", "Monday", "Mon", "2", "_2", "02", "__2", "002", "15", "3", "03", "4", "04",
	"5", "05", "2006", "06", "PM", "pm", "MST", "Z0700", "Z070000", "Z07", "Z07:00", "Z07:00:00", "-0700",
	"-070000", "-07", "-07:00", "-07:00:00", ".0", ".000", ".000000000", ".00000000000", ",000", ".9", ".999",
	".999999999", ",999", ".9999999999", " ", "-", ":", "/", "T", "Z", ".", ",", "Month", "Mond", "Janu",
	"_2006", "MSTX", "x", "é", "Jan2", "05.0", "05,9", "0", "9", "Z07:", "-07:0", "M", "P", "p", "_", "__",
}

var layouts = []string{
	time.Layout, time.ANSIC, time.UnixDate, time.RubyDate, time.RFC822, time.RFC822Z, time.RFC850,
	time.RFC1123, time.RFC1123Z, time.RFC3339, time.RFC3339Nano, time.Kitchen, time.Stamp, time.StampMilli,
	time.StampMicro, time.StampNano, time.DateTime, time.DateOnly, time.TimeOnly,
	"2006-01-02 15:04:05.999999999 -0700 MST", "2006-002", "2006 __2", "Jan _2 2006", "20060102150405",
	"06-1-2 3:4:5 pm", "Monday January 2 2006", "2006-01-02T15:04:05.000Z07:00:00", "15:04:05,999999",
	"2006-01-02T15:04:05-070000", "2006-01-02 15:04 Z07", "02.01.2006", "",
}

// zones: IANA names present in the system's tzdata (with odd rules:
// half-hour, 45-minute, negative and 30-minute DST, southern hemisphere),
// fixed Etc zones, aliases, and names that do not load (UTC then)
var zones = []string{
	"UTC", "Local", "", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe",
	"Pacific/Chatham", "America/St_Johns", "Asia/Kathmandu", "Etc/GMT+5", "Etc/GMT-14", "Africa/Casablanca",
	"Europe/Dublin", "America/Sao_Paulo", "Antarctica/Troll", "EST5EDT", "US/Pacific", "Asia/Tehran",
	"Pacific/Apia", "Europe/London", "Australia/Sydney", "America/Santiago", "Asia/Tokyo", "Etc/UTC", "GMT",
	"Foo/Bar", "../etc/passwd", "/etc/localtime", "America", "zone.tab", "tzdata.zi", "utc", "Europe/Kyiv",
	"Asia/Gaza", "America/Godthab", "Pacific/Kiritimati", "Europe/Lisbon", "America/Adak",
}

// $TZ values the cases run under (Go's initLocal: unset, "", ":name",
// absolute path, name)
var tzs = []string{"America/New_York", "Australia/Lord_Howe", "", ":Europe/Dublin",
	"/usr/share/zoneinfo/Asia/Kolkata", "UTC", "Nowhere/Else", "-"}

var durations = []string{"1h", "-1h30m", "1.5h", "90m", "1s", "-0.000000001s", "2562047h", "2562048h", "1d",
	"", "0", "+5m", "1e3s", "300ms", "1µs", "10us", "1ns", "-", "3h2m1.0000000005s", ".5s", "5.s", "9223372036s",
	"9223372037s", "1h1", "h", "1.5µs", "0.1ns"}

type gen struct{ r *rand.Rand }

func (g gen) pick(v []string) string { return v[g.r.Intn(len(v))] }

func (g gen) layout() string {
	if g.r.Intn(3) == 0 {
		return g.pick(layouts)
	}
	n := 1 + g.r.Intn(6)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(g.pick(elems))
	}
	return b.String()
}

// epochs: the extremes of int64, of Go's calendar and of year 0..9999,
// DST edges, negative and sub-second-free instants
func (g gen) epoch() int64 {
	switch g.r.Intn(6) {
	case 0:
		v := []int64{0, -1, 1, 9223372036854775807, -9223372036854775808, 253402300799, 253402300800,
			-62135596800, -62135596801, -62167219200, 2147483647, 2147483648, -2147483648, 1710054000,
			1710050400, 1730613600, 1699999999, 4102444800, 32503680000, 9223372036854775807 - 86400,
			-9223372036854775807 + 86400, 67767976233532799, 67768036191676799, -67768040609740800}
		return v[g.r.Intn(len(v))]
	case 1:
		return g.r.Int63() - g.r.Int63()
	case 2:
		return g.r.Int63n(1 << 40) - 1<<39
	default:
		return g.r.Int63n(4102444800) - 2208988800
	}
}

func lit(s string) string {
	if !strings.ContainsAny(s, "`\r") {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

// toDate's arguments: a layout and an instant formatted with it (so it
// parses), sometimes mutated
func (g gen) toDateArgs() string {
	l := g.pick(layouts[:len(layouts)-1])
	if g.r.Intn(4) == 0 {
		l = g.layout()
	}
	sec := g.r.Int63n(8000000000) - 2000000000
	if g.r.Intn(5) == 0 {
		sec = g.epoch()
	}
	loc, err := time.LoadLocation(g.pick(zones))
	if err != nil {
		loc = time.FixedZone(g.pick([]string{"", "XYZ", "GMT+3"}), (g.r.Intn(57)-28)*1800+g.r.Intn(2)*g.r.Intn(60))
	}
	v := time.Unix(sec, int64(g.r.Intn(3))*int64(g.r.Intn(1000000000))).In(loc).Format(l)
	switch g.r.Intn(8) {
	case 0:
		if len(v) > 0 {
			i := g.r.Intn(len(v))
			v = v[:i] + g.pick([]string{"", "x", "9", " ", "+", "13", "00", "60", "-"}) + v[i+1:]
		}
	case 1:
		v += g.pick([]string{"Z", " ", ".5", ",123456789012", "x"})
	}
	return lit(l) + " " + lit(v)
}

// a time value expression: toDate, or dateModify of one
func (g gen) timeExpr() string {
	e := "toDate " + g.toDateArgs()
	if g.r.Intn(4) == 0 {
		e = "dateModify " + lit(g.pick(durations)) + " (" + e + ")"
	}
	return "(" + e + ")"
}

func (g gen) dateArg() string {
	switch g.r.Intn(5) {
	case 0, 1:
		return g.timeExpr()
	case 2:
		return "(int64 " + strconv.FormatInt(g.epoch(), 10) + ")"
	default:
		e := g.epoch()
		if e < -9223372036854775807 {
			e++ // an int literal
		}
		return strconv.FormatInt(e, 10)
	}
}

func (g gen) template() string {
	switch g.r.Intn(17) {
	case 16:
		return "{{ upper " + strconv.Quote(g.caseText()) + " }}|{{ lower " + strconv.Quote(g.caseText()) + " }}"
	case 0, 1, 2:
		return "{{ date " + lit(g.layout()) + " " + g.dateArg() + " }}"
	case 3, 4, 5:
		return "{{ dateInZone " + lit(g.layout()) + " " + g.dateArg() + " " + lit(g.pick(zones)) + " }}"
	case 6:
		return "{{ htmlDate " + g.dateArg() + " }}|{{ htmlDateInZone " + g.dateArg() + " " + lit(g.pick(zones)) + " }}"
	case 7:
		return "{{ unixEpoch " + g.dateArg() + " }}"
	case 8, 9:
		e := g.timeExpr()
		return "{{ " + e[1:len(e)-1] + " }}"
	case 10:
		return "{{ mustToDate " + g.toDateArgs() + " }}"
	case 11:
		return "{{ mustDateModify " + lit(g.pick(durations)) + " " + g.timeExpr() + " }}"
	case 12:
		return "{{ toJson " + g.timeExpr() + " }}"
	case 13:
		a := g.timeExpr()
		b := a
		if g.r.Intn(2) == 0 {
			b = g.timeExpr()
		}
		return "{{ eq " + a + " " + b + " }}"
	case 14:
		switch g.r.Intn(4) {
		case 0:
			return "{{ duration " + lit(strconv.FormatInt(g.epoch()/int64(1+g.r.Intn(1000000)), 10)) + " }}"
		case 1:
			return "{{ duration (int64 " + strconv.FormatInt(g.epoch()%10000000000, 10) + ") }}"
		case 2:
			return "{{ duration " + strconv.Itoa(g.r.Intn(100000)) + " }}"
		}
		return "{{ duration " + lit(g.pick([]string{"", "x", " 5", "+5", "-0", "99999999999999999999", "1e3", "3600"})) + " }}"
	default:
		if g.r.Intn(2) == 0 {
			return "{{ durationRound " + lit(g.pick(durations)) + " }}"
		}
		return "{{ durationRound (int64 " + strconv.FormatInt(g.epoch(), 10) + ") }}"
	}
}

func main() {
	driver := flag.String("driver", "", "the C driver binary")
	count := flag.Int("n", 2400, "generated cases, over all $TZ values")
	seed := flag.Int64("seed", 1, "generator seed")
	verbose := flag.Bool("v", false, "print every difference in full")
	child := flag.Int("child", -1, "run the cases of one $TZ value (internal)")
	flag.Parse()
	if *driver == "" {
		fmt.Fprintln(os.Stderr, "dateoracle: -driver is required")
		os.Exit(2)
	}
	if *child >= 0 {
		os.Exit(run(*driver, *child, *count/len(tzs), *seed, *verbose))
	}
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	failed := 0
	for i, tz := range tzs {
		cmd := exec.Command(self, "-driver", *driver, "-child", strconv.Itoa(i), "-n", strconv.Itoa(*count),
			"-seed", strconv.FormatInt(*seed, 10), "-v="+strconv.FormatBool(*verbose))
		cmd.Env = os.Environ()
		for j := 0; j < len(cmd.Env); j++ {
			if strings.HasPrefix(cmd.Env[j], "TZ=") || strings.HasPrefix(cmd.Env[j], "ZONEINFO=") {
				cmd.Env = append(cmd.Env[:j], cmd.Env[j+1:]...)
				j--
			}
		}
		if tz != "-" {
			cmd.Env = append(cmd.Env, "TZ="+tz)
		}
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			failed++
		}
	}
	if failed > 0 {
		fmt.Printf("date-oracle: differences under %d of %d $TZ values\n", failed, len(tzs))
		os.Exit(1)
	}
	fmt.Printf("date-oracle: 0 differences under %d $TZ values\n", len(tzs))
}

// run: the cases of $TZ value number k, through Go and the driver
func run(driver string, k, n int, seed int64, verbose bool) int {
	g := gen{rand.New(rand.NewSource(seed + int64(k)))}
	var cases []string
	for _, l := range layouts {
		cases = append(cases, "{{ date "+lit(l)+" "+g.dateArg()+" }}", "{{ mustToDate "+lit(l)+" "+
			lit(time.Unix(g.epoch()%100000000000, 123456789).Format(l))+" }}")
	}
	for _, r := range caseRunes {
		cases = append(cases, "{{ upper "+strconv.Quote(r)+" }}|{{ lower "+strconv.Quote(r)+" }}")
	}
	for _, z := range zones {
		cases = append(cases, "{{ dateInZone "+lit(time.RFC1123Z+" MST")+" "+g.dateArg()+" "+lit(z)+" }}")
	}
	for i := 0; i < n; i++ {
		cases = append(cases, g.template())
	}
	cmd := exec.Command(driver)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		panic(err)
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		panic(err)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "dateoracle: %v\n", err)
		return 2
	}
	go func() {
		w := bufio.NewWriter(in)
		for _, c := range cases {
			fmt.Fprintf(w, "%s\n", hex.EncodeToString([]byte(c)))
		}
		w.Flush()
		in.Close()
	}()
	sc := bufio.NewScanner(outp)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	passed, failed, errs := 0, 0, 0
	for _, c := range cases {
		want := outcome(c)
		if strings.HasPrefix(want, "E ") {
			errs++
		}
		got := "<no answer>"
		if sc.Scan() {
			got = sc.Text()
		}
		if got == want {
			passed++
			continue
		}
		failed++
		if failed <= 10 || verbose {
			fmt.Printf("DIFF (TZ %q) %s\n  go:     %s\n  kstage: %s\n", tzs[k], c, decode(want), decode(got))
		}
	}
	if err := cmd.Wait(); err != nil {
		fmt.Printf("dateoracle: driver: %v\n", err)
		failed++
	}
	fmt.Printf("date-oracle: TZ %q: %d cases (%d errors in Go): %d passed, %d failed\n", tzs[k], len(cases), errs,
		passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func decode(line string) string {
	if b, err := hex.DecodeString(line[min(2, len(line)):]); err == nil {
		return line[:2] + strconv.Quote(string(b))
	}
	return line
}
