package ftpaudit

import "strconv"

// FormatSize formats a byte count for people, the one way every output
// and every piece of evidence shows sizes: exact bytes below 1 KiB
// ("512 B"), else binary units (KiB, MiB, GiB, TiB, PiB, EiB) with one
// decimal below 10 ("4.7 GiB") and none from 10 ("130 MiB"); "-" when
// unknown (negative). A value is rounded before its unit is chosen, so
// 1023.97 KiB reads "1.0 MiB", not "1024 KiB".
func FormatSize(n int64) string {
	if n < 0 {
		return "-"
	}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / 1024
	u := 0
	for {
		r := roundSize(v)
		if r < 1024 || u == len(units)-1 {
			if r < 10 {
				return strconv.FormatFloat(r, 'f', 1, 64) + " " + units[u]
			}
			return strconv.FormatFloat(r, 'f', 0, 64) + " " + units[u]
		}
		v /= 1024
		u++
	}
}

// roundSize rounds v to the precision FormatSize shows: one decimal below
// 9.95, a whole number from there.
func roundSize(v float64) float64 {
	if v < 9.95 {
		return float64(int64(v*10+0.5)) / 10
	}
	return float64(int64(v + 0.5))
}
