package main

// The build contexts of the Dockerfiles, filtered the way the Docker builder
// filters them (moby/patternmatcher, its .dockerignore matcher): every COPY
// source is in the context, nothing private is.

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Never in a build context: local settings and secrets, data, build output.
var private = []string{".env", ".stack/dev/env", "target/debug/gateway", "frontend/node_modules/x", ".git/config", "backups/chat-1.dump"}

// Directories not walked: large, and checked through `private` above.
var skipDirs = map[string]bool{".git": true, "target": true, ".stack": true, "node_modules": true}

var workspaceMembers = regexp.MustCompile(`(?m)^members\s*=\s*\[([^\]]*)\]`)

// ignoreFile: BuildKit reads <Dockerfile>.dockerignore next to the Dockerfile
// when it exists, else .dockerignore at the root of the context.
func ignoreFile(root, dockerfile string) string {
	if own := filepath.Join(root, dockerfile+".dockerignore"); fileExists(own) {
		return own
	}
	return filepath.Join(root, ".dockerignore")
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// contextFiles: the files of root that the ignore file lets through.
func contextFiles(root, ignorePath string) (*patternmatcher.PatternMatcher, map[string]bool, error) {
	f, err := os.Open(ignorePath)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, nil, err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, nil, err
	}
	files := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		excluded, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		if !excluded {
			files[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	return pm, files, err
}

// copySources: the sources of the COPY/ADD instructions that read the build
// context (not --from= another stage).
func copySources(dockerfile string) ([]string, error) {
	f, err := os.Open(dockerfile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var sources []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) < 3 || (fields[0] != "COPY" && fields[0] != "ADD") {
			continue
		}
		args := []string{}
		fromStage := false
		for _, a := range fields[1:] {
			if strings.HasPrefix(a, "--from=") {
				fromStage = true
			}
			if !strings.HasPrefix(a, "--") {
				args = append(args, a)
			}
		}
		if fromStage || len(args) < 2 {
			continue
		}
		sources = append(sources, args[:len(args)-1]...)
	}
	return sources, scanner.Err()
}

// covered: source (a file, a directory, or ".") is in the context.
func covered(files map[string]bool, source string) bool {
	source = strings.TrimSuffix(strings.TrimPrefix(source, "./"), "/")
	if source == "." || source == "" {
		return len(files) > 0
	}
	if files[source] {
		return true
	}
	for f := range files {
		if strings.HasPrefix(f, source+"/") {
			return true
		}
	}
	return false
}

// checkContext: for one Dockerfile (relative to root), every COPY source is in
// its context and nothing private is; a Dockerfile that copies the whole
// context (COPY . .) of a Cargo workspace has every member's manifest.
func (c *checker) checkContext(root, dockerfile string) (int, error) {
	ignorePath := ignoreFile(root, dockerfile)
	pm, files, err := contextFiles(root, ignorePath)
	if err != nil {
		return 0, err
	}
	sources, err := copySources(filepath.Join(root, dockerfile))
	if err != nil {
		return 0, err
	}
	rel, _ := filepath.Rel(root, ignorePath)
	wholeContext := false
	for _, s := range sources {
		if s == "." {
			wholeContext = true
		}
		if !covered(files, s) {
			c.failf(dockerfile, "COPY %s: not in the build context (%s leaves it out)", s, rel)
		}
	}
	for _, p := range private {
		if excluded, _ := pm.MatchesOrParentMatches(p); !excluded {
			c.failf(dockerfile, "%s would be sent to the builder (%s)", p, rel)
		}
	}
	if wholeContext && files["Cargo.toml"] {
		manifest, err := os.ReadFile(filepath.Join(root, "Cargo.toml"))
		if err != nil {
			return 0, err
		}
		if m := workspaceMembers.FindSubmatch(manifest); m != nil {
			for _, member := range strings.Split(string(m[1]), ",") {
				member = strings.Trim(strings.TrimSpace(member), `"`)
				if member != "" && !files[member+"/Cargo.toml"] {
					c.failf(dockerfile, "workspace member %s is not in the build context (%s)", member, rel)
				}
			}
		}
	}
	fmt.Printf("%s: build context %d files (%s)\n", dockerfile, len(files), rel)
	return len(files), nil
}
