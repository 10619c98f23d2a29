//! Commands in a running container: exec (streamed and collected),
//! probes, `docker diff`, logs.

use super::*;

impl Engine {
    /// Runs `argv` in `container` as `user` (the container's user when
    /// `None`), stdout and stderr apart, each line also given to `on_line`
    /// as it arrives. Times out after [`EXEC_TIMEOUT`].
    pub async fn exec_streaming<F>(
        &self,
        container: &str,
        argv: &[String],
        user: Option<&str>,
        mut on_line: F,
    ) -> Result<ExecOutput, EngineError>
    where
        F: FnMut(OutputLine) + Send,
    {
        let what = || format!("exec {argv:?} in {container}");
        let opts = CreateExecOptions::<String> {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(argv.to_vec()),
            user: user.map(str::to_owned),
            ..CreateExecOptions::default()
        };
        let exec = self
            .docker
            .create_exec(container, opts)
            .await
            .map_err(|e| EngineError::docker(what(), &e))?;
        let start = StartExecOptions {
            detach: false,
            tty: false,
            output_capacity: None,
        };
        let results = self
            .docker
            .start_exec(&exec.id, Some(start))
            .await
            .map_err(|e| EngineError::docker(what(), &e))?;
        let mut out = ExecOutput::default();
        if let StartExecResults::Attached { mut output, .. } = results {
            let mut partial = [String::new(), String::new()];
            let collect = async {
                while let Some(chunk) = output.next().await {
                    let chunk = chunk.map_err(|e| EngineError::docker(what(), &e))?;
                    let (idx, bytes) = match chunk {
                        LogOutput::StdErr { message } => (1, message),
                        LogOutput::StdOut { message } | LogOutput::Console { message } => {
                            (0, message)
                        }
                        LogOutput::StdIn { .. } => continue,
                    };
                    let text = String::from_utf8_lossy(&bytes);
                    if idx == 0 {
                        out.stdout.push_str(&text);
                    } else {
                        out.stderr.push_str(&text);
                    }
                    partial[idx].push_str(&text);
                    while let Some(pos) = partial[idx].find('\n') {
                        let line: String = partial[idx].drain(..=pos).collect();
                        on_line(OutputLine {
                            stderr: idx == 1,
                            text: line.trim_end_matches(['\n', '\r']).to_owned(),
                        });
                    }
                }
                Ok::<(), EngineError>(())
            };
            match tokio::time::timeout(EXEC_TIMEOUT, collect).await {
                Ok(r) => r?,
                Err(_) => {
                    return Err(EngineError::Docker {
                        what: what(),
                        message: format!("no end within {} s", EXEC_TIMEOUT.as_secs()),
                    });
                }
            }
            for (idx, rest) in partial.into_iter().enumerate() {
                if !rest.is_empty() {
                    on_line(OutputLine {
                        stderr: idx == 1,
                        text: rest,
                    });
                }
            }
        }
        let inspected = self
            .docker
            .inspect_exec(&exec.id)
            .await
            .map_err(|e| EngineError::docker(what(), &e))?;
        out.exit = inspected.exit_code;
        Ok(out)
    }

    /// Runs `argv` in `container` (see [`Engine::exec_streaming`]).
    pub async fn exec(
        &self,
        container: &str,
        argv: &[String],
        user: Option<&str>,
    ) -> Result<ExecOutput, EngineError> {
        self.exec_streaming(container, argv, user, |_| {}).await
    }

    /// Runs a probe in `container`; an exec that fails is the result's
    /// `error`, never an `Err`.
    pub async fn probe(
        &self,
        container: &str,
        service: &str,
        run: &ProbeCommand,
        user: Option<&str>,
    ) -> ProbeResult {
        let mut result = ProbeResult {
            service: service.into(),
            run: run.clone(),
            user: user.map(str::to_owned),
            exit: None,
            stdout: String::new(),
            stderr: String::new(),
            error: None,
        };
        match self.exec(container, &run.argv(), user).await {
            Ok(out) => {
                result.exit = out.exit;
                result.stdout = out.stdout;
                result.stderr = out.stderr;
            }
            Err(e) => result.error = Some(e.to_string()),
        }
        result
    }

    /// The container's changes to its image's filesystem (`docker diff`).
    pub async fn diff(&self, container: &str) -> Result<Vec<Change>, EngineError> {
        let changes = self
            .docker
            .container_changes(container)
            .await
            .map_err(|e| EngineError::docker(format!("diff {container}"), &e))?
            .unwrap_or_default();
        Ok(changes
            .into_iter()
            .map(|c| Change {
                kind: match c.kind {
                    ChangeType::_0 => ChangeKind::Changed,
                    ChangeType::_1 => ChangeKind::Added,
                    ChangeType::_2 => ChangeKind::Deleted,
                },
                path: c.path,
            })
            .collect())
    }

    /// The container's logs so far, stdout and stderr interleaved.
    pub async fn logs(&self, container: &str) -> Result<String, EngineError> {
        let opts = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .follow(false)
            .build();
        let mut stream = self.docker.logs(container, Some(opts));
        let mut text = String::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| EngineError::docker(format!("logs {container}"), &e))?;
            text.push_str(&chunk.to_string());
        }
        Ok(text)
    }
}
