package orchsim

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// The simulator's OData: $filter with "Property eq literal" joined by
// and/or (with parentheses), $top, $skip and $count. $select, $expand and
// $orderby are accepted and ignored. Anything else in $filter is a 400.

type kind int

const (
	kindString kind = iota
	kindInt
)

// row is an entity's filterable properties.
type row map[string]any // string or int64 values

type filter interface{ match(row) bool }

type eqFilter struct {
	prop string
	val  any
}

func (f eqFilter) match(r row) bool {
	switch v := f.val.(type) {
	case string:
		s, ok := r[f.prop].(string)
		return ok && strings.EqualFold(s, v) // SQL Server collation ignores case
	case int64:
		n, ok := r[f.prop].(int64)
		return ok && n == v
	}
	return false
}

type boolFilter struct {
	and  bool
	l, r filter
}

func (f boolFilter) match(r row) bool {
	if f.and {
		return f.l.match(r) && f.r.match(r)
	}
	return f.l.match(r) || f.r.match(r)
}

type query struct {
	filter filter
	top    int // -1: no limit
	skip   int
	count  bool
}

func (q query) apply(rows []row) []int {
	var idx []int
	for i, r := range rows {
		if q.filter == nil || q.filter.match(r) {
			idx = append(idx, i)
		}
	}
	if q.skip >= len(idx) {
		return nil
	}
	idx = idx[q.skip:]
	if q.top >= 0 && q.top < len(idx) {
		idx = idx[:q.top]
	}
	return idx
}

// parseQuery reads OData options; schema names the filterable properties.
func parseQuery(v url.Values, schema map[string]kind) (query, error) {
	q := query{top: -1}
	if s := v.Get("$top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, fmt.Errorf("$top must be a non-negative integer")
		}
		q.top = n
	}
	if s := v.Get("$skip"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, fmt.Errorf("$skip must be a non-negative integer")
		}
		q.skip = n
	}
	q.count = strings.EqualFold(v.Get("$count"), "true")
	if s := strings.TrimSpace(v.Get("$filter")); s != "" {
		toks, err := tokenize(s)
		if err != nil {
			return q, err
		}
		p := &parser{toks: toks, schema: schema}
		f, err := p.or()
		if err != nil {
			return q, err
		}
		if p.pos != len(p.toks) {
			return q, fmt.Errorf("unexpected %q in $filter", p.toks[p.pos].text)
		}
		q.filter = f
	}
	return q, nil
}

type token struct {
	text string
	str  bool // a quoted literal
}

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			out = append(out, token{text: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated string literal in $filter")
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			out = append(out, token{text: b.String(), str: true})
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '(' && s[j] != ')' && s[j] != '\'' {
				j++
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

type parser struct {
	toks   []token
	pos    int
	schema map[string]kind
}

func (p *parser) peekWord(w string) bool {
	return p.pos < len(p.toks) && !p.toks[p.pos].str && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *parser) or() (filter, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = boolFilter{l: l, r: r}
	}
	return l, nil
}

func (p *parser) and() (filter, error) {
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		r, err := p.primary()
		if err != nil {
			return nil, err
		}
		l = boolFilter{and: true, l: l, r: r}
	}
	return l, nil
}

func (p *parser) primary() (filter, error) {
	if p.peekWord("(") {
		p.pos++
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peekWord(")") {
			return nil, fmt.Errorf("missing ) in $filter")
		}
		p.pos++
		return f, nil
	}
	if p.pos+3 > len(p.toks) {
		return nil, fmt.Errorf("$filter must be Property eq value")
	}
	prop, op, lit := p.toks[p.pos], p.toks[p.pos+1], p.toks[p.pos+2]
	p.pos += 3
	if prop.str || !strings.EqualFold(op.text, "eq") || op.str {
		return nil, fmt.Errorf("only 'Property eq value' comparisons are supported, not %q %q", prop.text, op.text)
	}
	name, k, ok := p.property(prop.text)
	if !ok {
		return nil, fmt.Errorf("property %q cannot be filtered here", prop.text)
	}
	switch k {
	case kindString:
		if !lit.str {
			return nil, fmt.Errorf("%s needs a quoted string, got %s", name, lit.text)
		}
		return eqFilter{prop: name, val: lit.text}, nil
	default:
		n, err := strconv.ParseInt(lit.text, 10, 64)
		if lit.str || err != nil {
			return nil, fmt.Errorf("%s needs an integer, got %q", name, lit.text)
		}
		return eqFilter{prop: name, val: n}, nil
	}
}

func (p *parser) property(s string) (string, kind, bool) {
	for name, k := range p.schema {
		if strings.EqualFold(name, s) {
			return name, k, true
		}
	}
	return "", 0, false
}

// collection is an OData collection answer.
type collection struct {
	Context string `json:"@odata.context"`
	Count   int    `json:"@odata.count"`
	Value   []any  `json:"value"`
}
