// The topic creator (the one-shot kafka-init service) run against stand-in
// Kafka tools (kafka-stub.sh): every topic the services use must end up with
// the durability settings, whether kafka-init creates it or finds it there
// (a volume from before the setting existed).

package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

//go:embed kafka-stub.sh
var kafkaStub []byte

const topicCreator = "kafka-init"

// On a broker of one node, acks=all means "in the leader's page cache": the
// log must be fsynced before the produce is acknowledged, or a power loss
// loses messages the gateway acknowledged (and showed).
var durableTopicConfig = map[string]string{"flush.messages": "1"}

// usedTopics: the KAFKA_TOPIC and KAFKA_DLQ_TOPIC values of every service
// but the topic creator.
func usedTopics(p *types.Project) []string {
	seen := map[string]bool{}
	for name, s := range p.Services {
		if name == topicCreator {
			continue
		}
		for _, key := range []string{"KAFKA_TOPIC", "KAFKA_DLQ_TOPIC"} {
			if v := s.Environment[key]; v != nil && *v != "" {
				seen[*v] = true
			}
		}
	}
	topics := make([]string, 0, len(seen))
	for t := range seen {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	return topics
}

// creatorScript: the host path of the script kafka-init's entrypoint runs
// (a bind mount of this repository's file).
func creatorScript(s types.ServiceConfig, composeDir string) (string, error) {
	if len(s.Entrypoint) != 2 || filepath.Base(s.Entrypoint[0]) != "bash" {
		return "", fmt.Errorf("entrypoint %q is not [bash, SCRIPT]", []string(s.Entrypoint))
	}
	for _, v := range s.Volumes {
		if v.Target != s.Entrypoint[1] {
			continue
		}
		if v.Type != types.VolumeTypeBind || !v.ReadOnly {
			return "", fmt.Errorf("%s is not a read-only bind mount", v.Target)
		}
		if filepath.IsAbs(v.Source) {
			return v.Source, nil
		}
		return filepath.Abs(filepath.Join(composeDir, v.Source))
	}
	return "", fmt.Errorf("no volume mounts %s from this repository", s.Entrypoint[1])
}

// runCreator runs script with the service's environment against the stand-in
// tools, on a broker state in dir whose topics exist beforehand (without any
// config) when existing is set.
func runCreator(s types.ServiceConfig, script, dir string, topics []string, existing bool) error {
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	for _, tool := range []string{"kafka-topics.sh", "kafka-configs.sh"} {
		if err := os.WriteFile(filepath.Join(bin, tool), kafkaStub, 0o755); err != nil {
			return err
		}
	}
	if existing {
		for _, t := range topics {
			td := filepath.Join(dir, "topics", t)
			if err := os.MkdirAll(td, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(td, "partitions"), []byte("1\n"), 0o644); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(td, "config"), nil, 0o644); err != nil {
				return err
			}
		}
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "CHAT_KAFKA_HOME=" + dir, "CHAT_KAFKA_STUB_STATE=" + dir}
	for k, v := range s.Environment {
		if v != nil {
			env = append(env, k+"="+*v)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Env = env
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v:\n%s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// topicConfig: a stand-in topic's config, the last value of each key.
func topicConfig(dir, topic string) (map[string]string, error) {
	text, err := os.ReadFile(filepath.Join(dir, "topics", topic, "config"))
	if err != nil {
		return nil, err
	}
	config := map[string]string{}
	for _, line := range strings.Split(string(text), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			config[k] = v
		}
	}
	return config, nil
}

// topics: kafka-init leaves every used topic durable, on a fresh broker and
// on one where the topics exist without the settings.
func (c *checker) topics(p *types.Project, composeDir string) {
	s, ok := p.Services[topicCreator]
	if !ok {
		c.failf(topicCreator, "missing: nothing creates the topics")
		return
	}
	script, err := creatorScript(s, composeDir)
	if err != nil {
		c.failf(topicCreator, "%v", err)
		return
	}
	topics := usedTopics(p)
	if len(topics) == 0 {
		c.failf(topicCreator, "no service names a KAFKA_TOPIC")
		return
	}
	for _, existing := range []bool{false, true} {
		when := "created by " + topicCreator
		if existing {
			when = "existing before " + topicCreator + " ran"
		}
		dir, err := os.MkdirTemp("", "compose-check-topics-")
		if err != nil {
			c.failf(topicCreator, "%v", err)
			return
		}
		defer os.RemoveAll(dir)
		if err := runCreator(s, script, dir, topics, existing); err != nil {
			c.failf(topicCreator, "topics %s: %s fails: %v", when, filepath.Base(script), err)
			continue
		}
		c.durableTopics = len(topics)
		for _, t := range topics {
			config, err := topicConfig(dir, t)
			if err != nil {
				c.failf(topicCreator, "topic %s (used by the services) is not created", t)
				continue
			}
			for k, want := range durableTopicConfig {
				if config[k] != want {
					c.failf(topicCreator, "topic %s, %s: %s=%q, expected %s=%s (the log fsynced before a produce is acknowledged: else a power loss loses acknowledged messages)",
						t, when, k, config[k], k, want)
				}
			}
		}
	}
}
