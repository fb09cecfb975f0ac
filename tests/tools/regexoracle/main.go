// Command regexoracle is the differential test of kstage's port of Go's
// regexp (installer/tmpl/re_*.c) against Go's own regexp package: it
// generates patterns (valid and invalid RE2 syntax), inputs and
// replacement templates from a fixed seed, computes Go's outcome (the
// compile error text, or MatchString, FindAllStringSubmatchIndex,
// ReplaceAllString, ReplaceAllLiteralString and Split), runs the C driver
// (tests/tools/regexdriver) on the same cases and compares line by line.
//
// Usage: go run ./tools/regexoracle -driver PATH [-n CASES] [-seed N] [-v]
// Ends with "regex-oracle: N passed, M failed"; exits 1 on any difference.
package main

import (
	"bufio"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// Pieces the generator puts together. Named ones first: each named example
// of the issue and the constructs charts use are always among the cases.
var fixed = []string{
	`[\w-\.]`, `[\d-z]`, `^[\w-\.]+$`, `\1`, `(?=a)`, `(?!a)`, `(?<=a)`, `\e`, `\X`, `\R`, `a{1001}`,
	`a{1000}`, `a{2}{3}`, `(a{2}){3}`, `((a{10}){10}){11}`, `x{1000}{1000}`, `\8`, `[a-\d]`, `\C`, `\Z`,
	`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, `^([a-z0-9-]+\.)*[a-z0-9-]+$`, `(?i)^redis`, `[[:alpha:]]+`,
	`[[:foo:]]`, `\p{Greek}+`, `\pL`, `\p{L}`, `\PL`, `\p{^Lu}`, `\P{^Lu}`, `\p{Lc}`, `\p{LC}`, `\p{Any}`,
	`\p{Assigned}`, `\p{ASCII}`, `\p{ascii}`, `\p{letter}`, `\p{Uppercase_Letter}`, `\p{Old_Italic}`,
	`\p{Foo}`, `\p{`, `\p`, `\pZ`, `(?i)\p{Lu}`, `(?i)[k]`, `(?i)k`, `(?i)ſ`, `(?i)[^k]`, `(?i)\W`,
	`(?P<name>a)(?P<name>b)`, `(?P<n>x)|(?P<m>y)`, `(?<n>x)`, `(?P<>x)`, `(?P<n!>x)`, `(?P=n)`, `(?'n'x)`,
	`(?i)(?-i)a`, `(?i-s:a.)`, `(?-)`, `(?i-)`, `(?--i)`, `(?z)`, `(?`, `(?i`, `(`, `)`, `a)`, `(a`, `[`,
	`[]`, `[]a]`, `[^]a]`, `[a-]`, `[z-a]`, `[a`, `[\`, `\`, `a\`, `\Q.*\E+`, `\Qab`, `\Q\E*`, `\x`,
	`\x4`, `\x41`, `\x{}`, `\x{110000}`, `\x{10FFFF}`, `\x{41`, `\0`, `\07`, `\377`, `\400`, `\_`, `\-`,
	`\ `, `\q`, `a**`, `a*+`, `a+?`, `a??`, `a*?*`, `*`, `+a`, `?`, `{`, `a{`, `a{1`, `a{1,`, `a{,2}`,
	`a{01}`, `a{2,1}`, `a{1,1001}`, `a{100000000}`, `a{0}`, `(a){0}`, `(a)(b){0}$2`, `^`, `$`, `^$`,
	`(?m)^a$`, `(?s).`, `.`, `(?U)a+`, `(?U)a+?`, `\b`, `\B`, `\A`, `\z`, `(|a)*`, `(|a)+`, `(a|)*`,
	`(a*)*`, `(a*)+`, `(a?)*`, `(?:a*)*`, `(a|ab)(c|bcd)(d*)`, `(a+)(b+)?`, `a|b|c`, `a||b`, `|`,
	`(?:)`, `()`, `(()|a)+`, `x*`, `\d+`, `\s`, `\S+`, `\W`, `[^\n]`, `[\x00-\x{10FFFF}]`, "\xff",
	"[\xff]", "a\xffb", "(?P<\xff>a)", "\\p{\xff}", "\\pé", "\xe2\x82", "[a\xed\xa0\x80]", "\\Q\xc0\xaf",
	"(?i\xff)", "\\x{FFFD}", "[^\\x{FFFD}]", ".", "\\p\xff", "(?P<a\xff", "😀+", "[😀-😂]", `[a-b-c]`, `[-a]`, `[a-]`, `[\d-]`,
	`[--z]`, `[[:^digit:]x]`, `[[:word:]]`, `[[:alnum:]-]`, `(?i)[a-z]+`, `(?i)[[:upper:]]`, `(?i)Δ`,
}

// limits: Go's nesting depth (1000), size ("expression too large") and
// repeat-product checks, at and just past each limit.
func limits() []string {
	r := strings.Repeat
	return []string{
		r("(", 1001) + "a" + r(")", 1001), r("(", 999) + "a" + r(")", 999), r("(?:", 1001) + "a" + r(")", 1001),
		r("(?:a*)", 1000), r("a", 5000) + "{1000}", "(?:" + r("a", 3400) + "){1000}",
		"(?:" + r("a", 3300) + "){1000}", r(`[\pL]`, 30000), r(`\pL`, 27000), "(a{1000}){2}",
		"((a{10}){10}){10}", "((a{10}){10}){11}", "(?:(?:a){0}){1000}", r("a", 1001) + r("|", 2000),
		r("(", 1500), r(")", 3), "x{1000}{2}", r("(((a{2}){2}){2}){2}", 10), r("(a|", 999) + r(")", 999),
	}
}

var atoms = []string{
	"a", "b", "c", "A", "B", "x", "0", "1", "9", "-", ".", "_", " ", "é", "Δ", "δ", "ſ", "K", "k", "K",
	`\.`, `\-`, `\d`, `\D`, `\w`, `\W`, `\s`, `\S`, `\b`, `\B`, `\A`, `\z`, `\n`, `\t`, `\x41`, `\x{394}`,
	`\pL`, `\p{Greek}`, `\PL`, `\p{Lu}`, `\p{Nd}`, `\pN`, `\p{Latin}`, `\p{^Ll}`, `.`, "^", "$",
	`[abc]`, `[^a-c]`, `[\w-\.]`, `[\d-z]`, `[a-z0-9]`, `[[:alpha:]]`, `[[:^space:]]`, `[-.]`, `[\]a]`,
	`[^\n]`, `[Δ-Ω]`, `[k]`, `\Qa.b\E`, `\_`, `\0`, `\e`, `\1`, `\X`, `\R`, `\C`, `\Z`, `\p{Foo}`,
	`[[:foo:]]`, `[z-a]`, `\x{110000}`, `\q`, "{", "}", "{1}", `\$`, `\^`, `\*`,
	`[^\x00-\x{10FFFF}]`, `[^a]`, `\pZ`, `\p{Han}`, `[\p{Lu}\d]`, `[^\P{L}]`, `[k-m]`, `\x{212A}`,
	`[[:^alpha:][:digit:]]`, `[a-zA-Z]`, `[^\s]`, `[\x{17F}]`, `[Ss]`, `[^\n\r]`, `\p{Common}`,
}

var ops = []string{"*", "+", "?", "*?", "+?", "??", "{2}", "{1,3}", "{0,}", "{2,}?", "{0}", "{1001}",
	"{3,2}", "**", "{,2}", "{1", ""}

var groups = []string{"(%s)", "(?:%s)", "(?i:%s)", "(?P<g%d>%s)", "(?<n%d>%s)", "(?s:%s)", "(?m:%s)",
	"(?U:%s)", "(?-i:%s)", "(?=%s)", "(?P<>%s)", "(%s", "%s)", "(?i)%s"}

// bad marks the pieces Go rejects (alone or after what they follow); the
// mostly-valid half of the cases leaves them out.
var bad = map[string]bool{`\e`: true, `\1`: true, `\X`: true, `\R`: true, `\C`: true, `\Z`: true,
	`\p{Foo}`: true, `[[:foo:]]`: true, `[z-a]`: true, `\x{110000}`: true, `\q`: true, "{1001}": true,
	"{3,2}": true, "**": true, "(?=%s)": true, "(?P<>%s)": true, "(%s": true, "%s)": true}

func good(v []string) []string {
	var out []string
	for _, x := range v {
		if !bad[x] {
			out = append(out, x)
		}
	}
	return out
}

type gen struct {
	r                  *rand.Rand
	atoms, ops, groups []string
}

func (g gen) pick(v []string) string { return v[g.r.Intn(len(v))] }

func (g gen) regex(depth int) string {
	n := 1 + g.r.Intn(4)
	var b strings.Builder
	for i := 0; i < n; i++ {
		var piece string
		if depth < 3 && g.r.Intn(4) == 0 {
			f := g.pick(g.groups)
			inner := g.regex(depth + 1)
			if strings.Count(f, "%") == 2 {
				piece = fmt.Sprintf(f, g.r.Intn(3), inner)
			} else {
				piece = fmt.Sprintf(f, inner)
			}
		} else {
			piece = g.pick(g.atoms)
		}
		if g.r.Intn(3) == 0 {
			piece += g.pick(g.ops)
		}
		b.WriteString(piece)
		if g.r.Intn(8) == 0 {
			b.WriteString("|")
		}
	}
	return b.String()
}

var letters = []string{"a", "b", "c", "A", "B", "x", "0", "1", "9", "-", ".", "_", " ", "\n", "é", "Δ",
	"δ", "ſ", "K", "k", "K", "ab", "abc", "aaa", "\xff", "\t", "$", "{", "}", "\xe2\x82", "\xed\xa0\x80",
	"\xf0\x80\x80\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\xef\xbf\xbd", "😀"}

func (g gen) input() string {
	n := g.r.Intn(16)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(g.pick(letters))
	}
	return b.String()
}

var repls = []string{"", "x", "$0", "$1", "${1}", "$2", "[$1]", "${1}x", "$1x", "$g0", "${g1}", "$n1",
	"${n2}-$g2", "$$", "$", "${", "${1", "${}", "$10", "$01", "${0}", "<$0>", "$é", "${Δ}", "$_", "$-"}

func outcome(pat, s, repl string, n int) string {
	re, err := regexp.Compile(pat)
	if err != nil {
		return "E " + hex.EncodeToString([]byte(err.Error()))
	}
	var b strings.Builder
	m := 0
	if re.MatchString(s) {
		m = 1
	}
	fmt.Fprintf(&b, "M %d A %s N %s", m, all(re.FindAllStringSubmatchIndex(s, -1)), all(re.FindAllStringSubmatchIndex(s, n)))
	fmt.Fprintf(&b, " R %s L %s", hex.EncodeToString([]byte(re.ReplaceAllString(s, repl))),
		hex.EncodeToString([]byte(re.ReplaceAllLiteralString(s, repl))))
	fmt.Fprintf(&b, " S %s T %s", pieces(re.Split(s, -1)), pieces(re.Split(s, n)))
	return b.String()
}

func all(ms [][]int) string {
	var b strings.Builder
	b.WriteString("{")
	for i, m := range ms {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("[")
		for j, x := range m {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(strconv.Itoa(x))
		}
		b.WriteString("]")
	}
	b.WriteString("}")
	return b.String()
}

func pieces(p []string) string {
	if p == nil {
		return "nil"
	}
	var b strings.Builder
	b.WriteString("{")
	for i, s := range p {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("[" + hex.EncodeToString([]byte(s)) + "]")
	}
	b.WriteString("}")
	return b.String()
}

type tcase struct {
	pat, s, repl string
	n            int
}

func main() {
	driver := flag.String("driver", "", "the C driver binary")
	count := flag.Int("n", 3000, "generated cases (besides the fixed ones)")
	seed := flag.Int64("seed", 1, "generator seed")
	verbose := flag.Bool("v", false, "print every difference in full")
	flag.Parse()
	if *driver == "" {
		fmt.Fprintln(os.Stderr, "regexoracle: -driver is required")
		os.Exit(2)
	}
	g := gen{rand.New(rand.NewSource(*seed)), atoms, ops, groups}
	valid := gen{g.r, good(atoms), good(ops), good(groups)}
	var cases []tcase
	for _, p := range fixed {
		for k := 0; k < 3; k++ {
			cases = append(cases, tcase{p, g.input(), g.pick(repls), g.r.Intn(4) - 1})
		}
	}
	for _, p := range limits() {
		cases = append(cases, tcase{p, g.input(), g.pick(repls), g.r.Intn(4) - 1})
	}
	for i := 0; i < *count; i++ {
		p := g.regex(0)
		if i%3 != 0 {
			p = valid.regex(0)
		}
		cases = append(cases, tcase{p, g.input(), g.pick(repls), g.r.Intn(4) - 1})
	}

	cmd := exec.Command(*driver)
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
		fmt.Fprintf(os.Stderr, "regexoracle: %v\n", err)
		os.Exit(2)
	}
	go func() {
		w := bufio.NewWriter(in)
		for _, c := range cases {
			fmt.Fprintf(w, "%s %s %s %d\n", hex.EncodeToString([]byte(c.pat)), hex.EncodeToString([]byte(c.s)),
				hex.EncodeToString([]byte(c.repl)), c.n)
		}
		w.Flush()
		in.Close()
	}()
	sc := bufio.NewScanner(outp)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	passed, failed, rejected, matched := 0, 0, 0, 0
	for _, c := range cases {
		want := outcome(c.pat, c.s, c.repl, c.n)
		if strings.HasPrefix(want, "E ") {
			rejected++
		} else if strings.HasPrefix(want, "M 1") {
			matched++
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
		if failed <= 20 || *verbose {
			fmt.Printf("DIFF pattern %q input %q repl %q n %d\n  go:     %s\n  kstage: %s\n", c.pat, c.s, c.repl, c.n,
				decode(want), decode(got))
		}
	}
	if err := cmd.Wait(); err != nil {
		fmt.Printf("regexoracle: driver: %v\n", err)
		failed++
	}
	fmt.Printf("regex-oracle: %d cases: %d patterns rejected, %d compiled (%d of them matching their input)\n",
		len(cases), rejected, len(cases)-rejected, matched)
	fmt.Printf("regex-oracle: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

// decode shows an error line's text instead of its hex.
func decode(line string) string {
	if strings.HasPrefix(line, "E ") {
		if b, err := hex.DecodeString(line[2:]); err == nil {
			return "E " + string(b)
		}
	}
	return line
}
