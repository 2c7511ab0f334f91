package container

import (
	"bufio"
	"bytes"
	"net/netip"
	"os"
	"strings"

	"github.com/docker/docker/api/types/swarm"
)

// The files a container gets at /etc/hostname, /etc/hosts and /etc/resolv.conf are written in
// its directory and bind-mounted, as Docker does.

func hostnameContent(hostname string) []byte {
	return []byte(hostname + "\n")
}

// hostsContent is Docker's default /etc/hosts plus the extra entries. An entry is either
// "IP name [alias...]" (swarm's ContainerSpec.Hosts) or "name:IP" (docker run --add-host).
func hostsContent(extra []string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::\tip6-localnet\n")
	b.WriteString("ff00::\tip6-mcastprefix\n")
	b.WriteString("ff02::1\tip6-allnodes\n")
	b.WriteString("ff02::2\tip6-allrouters\n")
	for _, e := range extra {
		fields := strings.Fields(e)
		var ip string
		var names []string
		switch {
		case len(fields) >= 2:
			ip, names = fields[0], fields[1:]
		case len(fields) == 1 && strings.Contains(fields[0], ":"):
			name, addr, _ := strings.Cut(fields[0], ":")
			ip, names = strings.Trim(addr, "[]"), []string{name}
		default:
			return nil, invalidf("invalid hosts entry %q: want \"IP name\" or \"name:IP\"", e)
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			return nil, invalidf("invalid IP address in hosts entry %q", e)
		}
		b.WriteString(ip + "\t" + strings.Join(names, " ") + "\n")
	}
	return b.Bytes(), nil
}

// resolvConfContent is the container's resolv.conf: the DNS config when it names anything,
// otherwise the host's file without loopback nameservers (unreachable from another network
// namespace), falling back to Google's public servers as Docker does.
func resolvConfContent(dns swarm.DNSConfig, host []byte, hostNetwork bool) []byte {
	var b bytes.Buffer
	if len(dns.Nameservers)+len(dns.Search)+len(dns.Options) > 0 {
		hostNS, hostSearch, hostOpts := parseResolvConf(host)
		ns, search, opts := dns.Nameservers, dns.Search, dns.Options
		if len(ns) == 0 {
			ns = filterNameservers(hostNS, hostNetwork)
		}
		if len(search) == 0 {
			search = hostSearch
		}
		if len(opts) == 0 {
			opts = hostOpts
		}
		writeResolv(&b, ns, search, opts)
		return b.Bytes()
	}
	ns, search, opts := parseResolvConf(host)
	ns = filterNameservers(ns, hostNetwork)
	writeResolv(&b, ns, search, opts)
	return b.Bytes()
}

func filterNameservers(ns []string, hostNetwork bool) []string {
	if hostNetwork {
		return ns
	}
	var out []string
	for _, n := range ns {
		if a, err := netip.ParseAddr(n); err == nil && a.IsLoopback() {
			continue
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		out = []string{"8.8.8.8", "8.8.4.4"}
	}
	return out
}

func writeResolv(b *bytes.Buffer, ns, search, opts []string) {
	for _, n := range ns {
		b.WriteString("nameserver " + n + "\n")
	}
	if len(search) > 0 {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	if len(opts) > 0 {
		b.WriteString("options " + strings.Join(opts, " ") + "\n")
	}
}

func parseResolvConf(content []byte) (ns, search, opts []string) {
	sc := bufio.NewScanner(bytes.NewReader(content))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			ns = append(ns, f[1])
		case "search", "domain":
			search = f[1:]
		case "options":
			opts = append(opts, f[1:]...)
		}
	}
	return ns, search, opts
}

// writeFileAtomic writes a file through a temporary file and a rename.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
