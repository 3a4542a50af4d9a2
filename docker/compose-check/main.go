// Command compose-check loads docker-compose.yml the way `docker compose`
// does (compose-go, the library of the docker compose CLI: interpolation,
// schema, merge keys, consistency of depends_on, networks and volumes) and
// checks the deployment's own rules on the result. Run by
// scripts/check-compose.sh; no Docker engine needed.
//
//	compose-check FILE [PROMETHEUS_YML]
//
// The values of the variables come from the environment. The build context
// of every image FILE builds is filtered like the Docker builder does
// (context.go). The topic creator runs against stand-in Kafka tools
// (topics.go): every topic the services use must end up durable. With
// PROMETHEUS_YML, every scrape target must be a service of FILE listening on
// that port.
// Prints one line per broken rule and exits 1 if there is any.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

// The only service published on every address, and its ports.
const edgeService = "nginx"

var edgePorts = map[string]bool{"80": true, "443": true}

// Data stores and internal services: never published, internal networks only
// (except a listed way out).
var internalOnly = map[string]string{
	"postgres":   "",
	"redis":      "",
	"kafka":      "",
	"kafka-init": "",
	"migrate":    "",
	"prometheus": "",
	"writer":     "",
	"gateway-1":  "",
	"gateway-2":  "",
	"bot":        "",
	// Ollama downloads the model the bot asks for.
	"ollama": "ollama-egress",
}

// Long-running services without a healthcheck, and why.
var noHealthcheck = map[string]string{
	"certbot": "a renewal loop with nothing to ask; nothing depends on it",
}

// Environment keys whose value is (or contains) a secret.
var secretKey = regexp.MustCompile(`(PASSWORD|SECRET|TOKEN|_KEY)$|^(DATABASE_URL|REDIS_URL)$`)

// A ${VAR:?message} reference: the variable is required, compose stops without it.
var requiredRef = regexp.MustCompile(`\$\{[A-Z0-9_]+:\?[^}]+\}`)

// A pinned third-party tag: has a version number, is not a moving name.
var pinnedTag = regexp.MustCompile(`^[0-9v][0-9A-Za-z._-]*$`)

type checker struct {
	findings []string
	// durableTopics: how many topics the topic creator was checked on.
	durableTopics int
}

func (c *checker) failf(service, format string, args ...any) {
	c.findings = append(c.findings, fmt.Sprintf("%s: %s", service, fmt.Sprintf(format, args...)))
}

func load(file string) (*types.Project, error) {
	opts, err := cli.NewProjectOptions([]string{file},
		cli.WithOsEnv,
		cli.WithProfiles([]string{"*"}),
		cli.WithResolvedPaths(false),
	)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

func oneShot(s types.ServiceConfig) bool {
	return s.Restart == "" || s.Restart == types.RestartPolicyNo
}

func (c *checker) ports(name string, s types.ServiceConfig) {
	for _, p := range s.Ports {
		switch {
		case name == edgeService && edgePorts[p.Published] && p.HostIP == "":
		case p.HostIP == "127.0.0.1":
		default:
			c.failf(name, "publishes %s:%s->%d: only %s may publish (80, 443), anything else on 127.0.0.1 only",
				p.HostIP, p.Published, p.Target, edgeService)
		}
	}
	if name == edgeService {
		seen := map[string]bool{}
		for _, p := range s.Ports {
			seen[p.Published] = true
		}
		for want := range edgePorts {
			if !seen[want] {
				c.failf(name, "does not publish port %s", want)
			}
		}
	}
}

func (c *checker) networks(p *types.Project, name string, s types.ServiceConfig) {
	exit, listed := internalOnly[name]
	if !listed {
		return
	}
	if len(s.Ports) > 0 {
		c.failf(name, "is internal but publishes ports")
	}
	for net := range s.Networks {
		if net == exit {
			continue
		}
		if !p.Networks[net].Internal {
			c.failf(name, "is internal but joins the non-internal network %q", net)
		}
	}
}

func (c *checker) image(name string, s types.ServiceConfig) {
	if s.Build != nil {
		return // ours: built from this repository
	}
	ref := s.Image
	if i := strings.Index(ref, "@sha256:"); i >= 0 {
		ref = ref[:i]
	}
	tag := ""
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		tag = ref[i+1:]
	}
	if !pinnedTag.MatchString(tag) {
		c.failf(name, "image %q is not pinned to a version tag", s.Image)
	}
}

func (c *checker) runtime(p *types.Project, name string, s types.ServiceConfig) {
	if s.Logging == nil || s.Logging.Options["max-size"] == "" || s.Logging.Options["max-file"] == "" {
		c.failf(name, "no log rotation (logging.options max-size and max-file)")
	}
	if !strings.Contains(strings.Join(s.SecurityOpt, ","), "no-new-privileges:true") {
		c.failf(name, "security_opt lacks no-new-privileges:true")
	}
	if oneShot(s) {
		return
	}
	if s.Restart != types.RestartPolicyUnlessStopped && s.Restart != types.RestartPolicyAlways {
		c.failf(name, "restart is %q: a long-running service restarts (unless-stopped)", s.Restart)
	}
	if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
		if _, ok := noHealthcheck[name]; !ok {
			c.failf(name, "no healthcheck")
		}
	}
	if s.Deploy == nil || s.Deploy.Resources.Limits == nil || s.Deploy.Resources.Limits.MemoryBytes == 0 {
		c.failf(name, "no memory limit (deploy.resources.limits.memory)")
	}
	for dep, d := range s.DependsOn {
		target := p.Services[dep]
		want := types.ServiceConditionHealthy
		if oneShot(target) {
			want = types.ServiceConditionCompletedSuccessfully
		}
		if d.Condition != want {
			c.failf(name, "depends_on %s with %q, expected %q", dep, d.Condition, want)
		}
	}
}

// secrets: in the file as written (before interpolation), every value of a
// secret key, in a service or in an x- fragment, is a required ${VAR:?...}
// reference: no secret is written into the file, and none defaults to a value.
func (c *checker) secrets(node any, path string) {
	switch n := node.(type) {
	case map[string]any:
		for key, val := range n {
			if text, ok := val.(string); ok && secretKey.MatchString(key) && !requiredRef.MatchString(text) {
				c.failf(path, "%s is not a required ${VAR:?...} reference", key)
			}
			c.secrets(val, path+"."+key)
		}
	case []any:
		for _, item := range n {
			if text, ok := item.(string); ok {
				if key, val, found := strings.Cut(text, "="); found && secretKey.MatchString(key) && !requiredRef.MatchString(val) {
					c.failf(path, "%s is not a required ${VAR:?...} reference", key)
				}
			}
			c.secrets(item, path)
		}
	}
}

// rules specific to this deployment.
func (c *checker) specifics(p *types.Project) {
	// X-Forwarded-For is believed from the edge network only (nginx and the
	// gateways): its pinned subnets, nothing wider.
	var edge []string
	for _, pool := range p.Networks["edge"].Ipam.Config {
		if pool != nil && pool.Subnet != "" {
			edge = append(edge, pool.Subnet)
		}
	}
	if len(edge) == 0 {
		c.failf("edge", "the edge network must pin its subnet (TRUSTED_PROXIES names it)")
	}
	for _, gw := range []string{"gateway-1", "gateway-2"} {
		env := p.Services[gw].Environment
		expect := map[string]string{"TRUSTED_PROXIES": strings.Join(edge, ","), "COOKIE_SECURE": "true", "GATEWAY_ADDR": "0.0.0.0:8080"}
		for k, want := range expect {
			if v := env[k]; v == nil || *v != want {
				c.failf(gw, "%s must be %s", k, want)
			}
		}
		if v := env["ALLOWED_ORIGINS"]; v == nil || !strings.HasPrefix(*v, "https://") {
			c.failf(gw, "ALLOWED_ORIGINS must be the https:// origin of the site")
		}
	}
	redis := strings.Join(p.Services["redis"].Command, " ")
	for _, want := range []string{"--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction"} {
		if !strings.Contains(redis, want) {
			c.failf("redis", "command lacks %q", want)
		}
	}
	for _, name := range []string{"ollama", "bot"} {
		if s := p.Services[name]; len(s.Profiles) != 1 || s.Profiles[0] != "bot" {
			c.failf(name, "must be in the profile bot only")
		}
	}
}

// prometheusConfig: the part of prometheus.yml that names targets.
type prometheusConfig struct {
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
		DNSSDConfigs []struct {
			Names []string `yaml:"names"`
			Port  int      `yaml:"port"`
		} `yaml:"dns_sd_configs"`
	} `yaml:"scrape_configs"`
}

// listens: the service has an environment value that ends in ":port" (its
// GATEWAY_ADDR, WRITER_HTTP_ADDR, BOT_HTTP_ADDR, ...).
func listens(s types.ServiceConfig, port string) bool {
	for _, v := range s.Environment {
		if v != nil && strings.HasSuffix(*v, ":"+port) {
			return true
		}
	}
	return false
}

func (c *checker) scrapeTargets(p *types.Project, file string) error {
	text, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var cfg prometheusConfig
	if err := yaml.Unmarshal(text, &cfg); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	check := func(job, host, port string) {
		if host == "127.0.0.1" || host == "localhost" {
			return // Prometheus itself
		}
		s, ok := p.Services[host]
		if !ok {
			c.failf("prometheus", "job %s scrapes %s:%s, which is not a service", job, host, port)
			return
		}
		if !listens(s, port) {
			c.failf("prometheus", "job %s scrapes %s:%s, but %s does not listen on port %s", job, host, port, host, port)
		}
		shared := false
		for net := range s.Networks {
			if _, ok := p.Services["prometheus"].Networks[net]; ok {
				shared = true
			}
		}
		if !shared {
			c.failf("prometheus", "job %s scrapes %s, which shares no network with prometheus", job, host)
		}
	}
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, t := range st.Targets {
				host, port, _ := strings.Cut(t, ":")
				check(sc.JobName, host, port)
			}
		}
		for _, dns := range sc.DNSSDConfigs {
			for _, name := range dns.Names {
				check(sc.JobName, name, fmt.Sprint(dns.Port))
			}
		}
	}
	return nil
}

func sortedNames(p *types.Project) []string {
	names := make([]string, 0, len(p.Services))
	for name := range p.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: compose-check docker-compose.yml [prometheus.yml]")
		os.Exit(2)
	}
	file := os.Args[1]
	project, err := load(file)
	if err != nil {
		fmt.Fprintf(os.Stderr, "compose-go refuses %s:\n%v\n", file, err)
		os.Exit(1)
	}
	text, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var raw any
	if err := yaml.Unmarshal(text, &raw); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", file, err)
		os.Exit(1)
	}
	c := &checker{}
	for _, name := range sortedNames(project) {
		s := project.Services[name]
		c.ports(name, s)
		c.networks(project, name, s)
		c.image(name, s)
		c.runtime(project, name, s)
	}
	c.secrets(raw, "file")
	c.specifics(project)
	c.topics(project, filepath.Dir(file))
	seen := map[string]bool{}
	for _, name := range sortedNames(project) {
		b := project.Services[name].Build
		if b == nil {
			continue
		}
		root := filepath.Join(filepath.Dir(file), b.Context)
		if seen[root+"|"+b.Dockerfile] {
			continue
		}
		seen[root+"|"+b.Dockerfile] = true
		if _, err := c.checkContext(root, b.Dockerfile); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if len(os.Args) == 3 {
		if err := c.scrapeTargets(project, os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	for _, f := range c.findings {
		fmt.Println(f)
	}
	fmt.Printf("compose-check: %d services, %d networks, %d volumes, %d build contexts, %d topics checked for flush.messages=1 (created or found); %d findings\n",
		len(project.Services), len(project.Networks), len(project.Volumes), len(seen), c.durableTopics, len(c.findings))
	if len(c.findings) > 0 {
		os.Exit(1)
	}
}
