package listing

// Field parsers that more than one grammar uses: digits, dates, clocks
// and mode bits.

func isDecDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDecDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDecDigit(s[i]) {
			return false
		}
	}
	return true
}

// smallAtoi converts a short all-digit string (already validated).
func smallAtoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// parseDigits parses a non-negative decimal int64. ok is false when s is not
// all digits; overflow is set when it is but does not fit.
func parseDigits(s string) (v int64, ok, overflow bool) {
	if !allDecDigits(s) {
		return 0, false, false
	}
	for i := 0; i < len(s); i++ {
		d := int64(s[i] - '0')
		if v >= maxInt64/10 && (v > maxInt64/10 || d > maxInt64%10) {
			return 0, true, true
		}
		v = v*10 + d
	}
	return v, true, false
}

const maxInt64 = 1<<63 - 1

func validYMD(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return d <= 29
		}
		return d <= 28
	case 4, 6, 9, 11:
		return d <= 30
	}
	return d <= 31
}

// parseClock parses "H:MM" or "HH:MM" (24 hour).
func parseClock(s string) (h, m int, ok bool) {
	switch {
	case len(s) == 4 && s[1] == ':' && isDecDigit(s[0]) && isDecDigit(s[2]) && isDecDigit(s[3]):
		h, m = int(s[0]-'0'), smallAtoi(s[2:])
	case len(s) == 5 && s[2] == ':' && isDecDigit(s[0]) && isDecDigit(s[1]) && isDecDigit(s[3]) && isDecDigit(s[4]):
		h, m = smallAtoi(s[:2]), smallAtoi(s[3:])
	default:
		return 0, 0, false
	}
	return h, m, h < 24 && m < 60
}

// parseClockSec parses "HH:MM:SS" with an optional fraction of up to any
// number of digits (".123456789"; digits past nanoseconds are dropped).
func parseClockSec(s string) (h, m, sec, nsec int, ok bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' || !allDecDigits(s[:2]) || !allDecDigits(s[3:5]) || !allDecDigits(s[6:8]) {
		return 0, 0, 0, 0, false
	}
	h, m, sec = smallAtoi(s[:2]), smallAtoi(s[3:5]), smallAtoi(s[6:8])
	if frac := s[8:]; frac != "" {
		if len(frac) < 2 || frac[0] != '.' || !allDecDigits(frac[1:]) {
			return 0, 0, 0, 0, false
		}
		for i := 1; i <= 9; i++ {
			nsec *= 10
			if i < len(frac) {
				nsec += int(frac[i] - '0')
			}
		}
	}
	return h, m, sec, nsec, h < 24 && m < 60 && sec <= 60
}

// parseZone parses a numeric zone, "+hhmm" or "-hhmm", into seconds east
// of UTC.
func parseZone(s string) (int, bool) {
	if len(s) != 5 || s[0] != '+' && s[0] != '-' || !allDecDigits(s[1:]) {
		return 0, false
	}
	h, m := smallAtoi(s[1:3]), smallAtoi(s[3:])
	if h > 14 || m > 59 {
		return 0, false
	}
	z := h*3600 + m*60
	if s[0] == '-' {
		z = -z
	}
	return z, true
}

// specialBit overlays a setuid/setgid/sticky bit on an x position.
func specialBit(x, c byte) byte {
	if x == 'x' {
		return c
	}
	return c - 'a' + 'A'
}
