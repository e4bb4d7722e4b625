"""PyTorch CPU throughput of the DCGAN tutorial (pytorch/tutorials beginner_source/dcgan_faces_tutorial.py)
at 64x64x3, batch 64: the yardstick for aekit's `dcgan` family (src/models/dcgan.ts) in bench/train.ts.

The tutorial's networks, unchanged: latent nz 100, ngf = ndf = 64, no biases, N(0, 0.02) weights,
BatchNorm gamma N(1, 0.02).
  generator:     ConvT 100->512 k4 s1 p0 (1->4), BN, ReLU; ConvT 512->256, 256->128, 128->64 k4 s2 p1
                 (4->8->16->32), BN, ReLU each; ConvT 64->3 k4 s2 p1 (32->64), tanh
  discriminator: Conv 3->64 k4 s2 p1, LeakyReLU(0.2); Conv 64->128, 128->256, 256->512 k4 s2 p1, BN,
                 LeakyReLU(0.2) each; Conv 512->1 k4 s1 p0 (4->1), sigmoid
  step:          the tutorial's: D on real (label 1) and on G(z).detach() (label 0), BCELoss, Adam step;
                 then G on D(G(z)) with label 1 (the same fake batch), Adam step. Adam lr 2e-4, betas
                 (0.5, 0.999) for each network.
Random images in [-1, 1] stand in for the data (throughput does not depend on the pixels).

Usage: /usr/bin/python3 bench/dcgan_torch.py [images] [warm-up steps]
Prints one line like bench/conv_vae_torch.py: samples/s over the timed steps (warm-up excluded) and
the median step time.
"""
import sys, time
import torch, torch.nn as nn

n = int(sys.argv[1]) if len(sys.argv) > 1 else 640
warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 2
BATCH, NZ, NGF, NDF, NC = 64, 100, 64, 64, 3
torch.manual_seed(0)


def weights_init(m):
    name = m.__class__.__name__
    if name.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


netG = nn.Sequential(
    nn.ConvTranspose2d(NZ, NGF * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(NGF * 8), nn.ReLU(True),
    nn.ConvTranspose2d(NGF * 8, NGF * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 4), nn.ReLU(True),
    nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 2), nn.ReLU(True),
    nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(True),
    nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False), nn.Tanh(),
)
netD = nn.Sequential(
    nn.Conv2d(NC, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
    nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 2), nn.LeakyReLU(0.2, inplace=True),
    nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 4), nn.LeakyReLU(0.2, inplace=True),
    nn.Conv2d(NDF * 4, NDF * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 8), nn.LeakyReLU(0.2, inplace=True),
    nn.Conv2d(NDF * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid(),
)
netG.apply(weights_init)
netD.apply(weights_init)
criterion = nn.BCELoss()
optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
X = torch.rand(n, NC, 64, 64) * 2 - 1

steps = []
for i in range(0, n - BATCH + 1, BATCH):
    t = time.perf_counter()
    real = X[i:i + BATCH]
    netD.zero_grad()
    label = torch.full((BATCH,), 1.0)
    errD_real = criterion(netD(real).view(-1), label)
    errD_real.backward()
    fake = netG(torch.randn(BATCH, NZ, 1, 1))
    label.fill_(0.0)
    errD_fake = criterion(netD(fake.detach()).view(-1), label)
    errD_fake.backward()
    optD.step()
    netG.zero_grad()
    label.fill_(1.0)
    errG = criterion(netD(fake).view(-1), label)
    errG.backward()
    optG.step()
    steps.append(time.perf_counter() - t)
timed = steps[warmup:]
median = sorted(timed)[len(timed) // 2]
print(f"torch {torch.__version__} threads={torch.get_num_threads()} samples/s={BATCH * len(timed) / sum(timed):.1f} "
      f"median_step_ms={1000 * median:.0f} steps={len(timed)} last_lossD={(errD_real + errD_fake).item():.3f} last_lossG={errG.item():.3f}")
