package ftpaudit

import (
	"reflect"
	"strings"
)

// Redacted replaces a secret wherever Redact finds it.
const Redacted = "[REDACTED]"

// MinSecretLen is the shortest secret Redact looks for: a shorter one
// would blank out ordinary text, so it is left alone (and the CLI warns).
const MinSecretLen = 4

// Redact replaces every occurrence of each secret (a password the tool
// logged in with) in every string of r, whatever field holds it: a server
// that echoes the password in a banner, a reply or even a file name must
// not get it into a report or the history. It returns how many strings
// changed. Secrets shorter than MinSecretLen are skipped.
func (r *Result) Redact(secrets ...string) int {
	var use []string
	for _, s := range secrets {
		if len(s) >= MinSecretLen {
			use = append(use, s)
		}
	}
	if len(use) == 0 || r == nil {
		return 0
	}
	n := 0
	redactValue(reflect.ValueOf(r).Elem(), use, &n, map[uintptr]bool{})
	for _, h := range r.Hosts {
		if h != nil && h.Source != nil {
			n += h.Source.Rewrite(func(e *Entry) bool { return redactEntry(e, use) })
		}
	}
	return n
}

func redactString(s string, secrets []string) (string, bool) {
	changed := false
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Redacted)
			changed = true
		}
	}
	return s, changed
}

// redactValue walks v (settable) and rewrites its strings in place.
// seen guards against visiting one pointer twice.
func redactValue(v reflect.Value, secrets []string, n *int, seen map[uintptr]bool) {
	switch v.Kind() {
	case reflect.String:
		if s, ok := redactString(v.String(), secrets); ok && v.CanSet() {
			v.SetString(s)
			*n++
		}
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		redactValue(v.Elem(), secrets, n, seen)
	case reflect.Interface:
		if !v.IsNil() && v.Elem().Kind() == reflect.Pointer {
			redactValue(v.Elem(), secrets, n, seen)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				redactValue(v.Field(i), secrets, n, seen)
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return
		}
		for i := 0; i < v.Len(); i++ {
			redactValue(v.Index(i), secrets, n, seen)
		}
	case reflect.Map:
		if v.IsNil() || v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.String {
			return
		}
		for _, k := range v.MapKeys() {
			val := v.MapIndex(k).String()
			nk, kch := redactString(k.String(), secrets)
			nv, vch := redactString(val, secrets)
			if kch || vch {
				if kch {
					v.SetMapIndex(k, reflect.Value{})
				}
				v.SetMapIndex(reflect.ValueOf(nk).Convert(v.Type().Key()), reflect.ValueOf(nv).Convert(v.Type().Elem()))
				*n++
			}
		}
	}
}

// redactEntry is redactValue for one Entry, without reflection: a walk's
// entries are millions, read back from its temporary file (see
// EntrySource.Rewrite). It reports whether a string changed.
func redactEntry(e *Entry, secrets []string) bool {
	changed := false
	for _, p := range []*string{&e.Path, &e.Name, &e.Mode, &e.Owner, &e.Group, &e.Raw} {
		if s, ok := redactString(*p, secrets); ok {
			*p, changed = s, true
		}
	}
	if x := e.Extra; x != nil {
		for _, p := range []*string{&x.Perm, &x.Unique, &x.FactsRaw, &x.ListRaw, &x.Target} {
			if s, ok := redactString(*p, secrets); ok {
				*p, changed = s, true
			}
		}
		var keys []string
		for k, v := range x.Facts {
			_, kch := redactString(k, secrets)
			_, vch := redactString(v, secrets)
			if kch || vch {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			v := x.Facts[k]
			delete(x.Facts, k)
			nk, _ := redactString(k, secrets)
			x.Facts[nk], _ = redactString(v, secrets)
			changed = true
		}
	}
	return changed
}
