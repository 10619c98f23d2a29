//! The engine's part of `seclab scan-image` (see `shell::trivy`): save an
//! image as a `docker save` tar, and run the trivy container on it — the
//! tar uploaded as an archive, trivy's database in the labelled cache
//! volume, the report copied out, the container removed afterwards.

use std::io::Read as _;

use bollard::models::VolumeCreateRequest;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::{Engine, EngineError, has_label, is_not_found, labels};
use crate::shell::trivy::{
    CACHE_VOLUME, REPORT_NAME, SCAN_DIR, ScanError, ScanRequest, TAR_NAME, container_body,
    container_name, tail, volume_labels,
};

impl Engine {
    /// The image as `docker save` writes it (a tar of its layers and
    /// config), in memory.
    ///
    /// # Errors
    /// The engine cannot export it.
    pub async fn save_image(&self, reference: &str) -> Result<Vec<u8>, EngineError> {
        let mut stream = self.docker.export_image(reference);
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| EngineError::docker(format!("save image {reference}"), &e))?;
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Makes the trivy cache volume, or checks that the one there is
    /// seclab's.
    async fn trivy_cache(&self) -> Result<(), EngineError> {
        match self.docker.inspect_volume(CACHE_VOLUME).await {
            Ok(v) if v.labels.contains_key(labels::LAB) => return Ok(()),
            Ok(_) => {
                return Err(EngineError::Docker {
                    what: format!("volume {CACHE_VOLUME}"),
                    message: "exists and is not seclab's: remove or rename it".into(),
                });
            }
            Err(e) if is_not_found(&e) => {}
            Err(e) => {
                return Err(EngineError::docker(
                    format!("inspect volume {CACHE_VOLUME}"),
                    &e,
                ));
            }
        }
        let req = VolumeCreateRequest {
            name: Some(CACHE_VOLUME.into()),
            labels: Some(volume_labels()),
            ..VolumeCreateRequest::default()
        };
        self.docker
            .create_volume(req)
            .await
            .map(|_| ())
            .map_err(|e| EngineError::docker(format!("create volume {CACHE_VOLUME}"), &e))
    }

    /// Runs the trivy image `image` on `tar` (a `docker save` tar) and
    /// returns the JSON report it wrote. The container is removed
    /// afterwards, whatever happened.
    ///
    /// # Errors
    /// The engine failed, or trivy exited non-zero (its last lines given).
    pub async fn run_trivy(
        &self,
        req: &ScanRequest,
        image: &str,
        tar: Vec<u8>,
    ) -> Result<Vec<u8>, ScanError> {
        self.trivy_cache().await?;
        let name = container_name(&req.lab);
        // A leftover of ours goes; anyone else's is not touched.
        match self.docker.inspect_container(&name, None).await {
            Ok(c)
                if has_label(
                    c.config.as_ref().and_then(|c| c.labels.as_ref()),
                    labels::LAB,
                ) =>
            {
                self.force_remove(&name).await?;
            }
            Ok(_) => return Err(EngineError::NameClash { name }.into()),
            Err(e) if is_not_found(&e) => {}
            Err(e) => {
                return Err(EngineError::docker(format!("inspect container {name}"), &e).into());
            }
        }
        let opts = CreateContainerOptionsBuilder::new().name(&name).build();
        self.docker
            .create_container(Some(opts), container_body(req, image))
            .await
            .map_err(|e| EngineError::docker(format!("create container {name}"), &e))?;
        let result = self.scan_in(&name, tar).await;
        self.force_remove(&name).await?;
        result
    }

    async fn scan_in(&self, name: &str, tar: Vec<u8>) -> Result<Vec<u8>, ScanError> {
        let archive = wrap(TAR_NAME, &tar).map_err(|e| ScanError::Io {
            path: TAR_NAME.into(),
            message: e.to_string(),
        })?;
        drop(tar);
        let opts = UploadToContainerOptionsBuilder::new()
            .path(SCAN_DIR)
            .build();
        self.docker
            .upload_to_container(name, Some(opts), bollard::body_full(archive.into()))
            .await
            .map_err(|e| EngineError::docker(format!("copy the image tar into {name}"), &e))?;
        self.docker
            .start_container(name, None)
            .await
            .map_err(|e| EngineError::docker(format!("start container {name}"), &e))?;
        let mut wait = self.docker.wait_container(name, None);
        let mut code = 0;
        while let Some(r) = wait.next().await {
            match r {
                Ok(w) => code = w.status_code,
                Err(bollard::errors::Error::DockerContainerWaitError { code: c, .. }) => code = c,
                Err(e) => return Err(EngineError::docker(format!("wait for {name}"), &e).into()),
            }
        }
        if code != 0 {
            let logs = self.logs(name).await.unwrap_or_default();
            return Err(ScanError::Failed {
                code,
                output: tail(&logs, 5),
            });
        }
        let path = format!("{SCAN_DIR}/{REPORT_NAME}");
        let opts = DownloadFromContainerOptionsBuilder::new()
            .path(&path)
            .build();
        let mut stream = self.docker.download_from_container(name, Some(opts));
        let mut archive = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| EngineError::docker(format!("copy {path} out of {name}"), &e))?;
            archive.extend_from_slice(&chunk);
        }
        unwrap_first(&archive).map_err(|message| ScanError::Io {
            path: path.into(),
            message,
        })
    }
}

/// A tar archive holding one file `name` with `data`.
fn wrap(name: &str, data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(u64::try_from(data.len()).unwrap_or(u64::MAX));
    header.set_mode(0o644);
    header.set_cksum();
    b.append_data(&mut header, name, data)?;
    b.into_inner()
}

/// The first file of a tar archive.
fn unwrap_first(archive: &[u8]) -> Result<Vec<u8>, String> {
    let mut a = tar::Archive::new(archive);
    let mut entries = a.entries().map_err(|e| e.to_string())?;
    let mut entry = entries
        .next()
        .ok_or_else(|| "the archive is empty".to_string())?
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    entry.read_to_end(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_file_unwraps_to_the_same_bytes() {
        let data = b"{\"SchemaVersion\": 2}".to_vec();
        let archive = wrap("seclab-report.json", &data).expect("tar");
        assert_eq!(unwrap_first(&archive).expect("untar"), data);
        assert!(unwrap_first(&[]).is_err());
    }
}
