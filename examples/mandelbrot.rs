//! Renders the Mandelbrot set with a parallel loop over the image's rows.
//!
//! Rows through the set cost up to 2,000 iterations a pixel, rows outside it
//! a few: the cost per row varies more than a hundredfold, which is what the
//! loop's adaptive splitting has to balance. The image is written as a PPM
//! file under `target/`, and the time is compared with one thread.
//!
//! Run: `cargo run --release --example mandelbrot [WIDTH HEIGHT]`

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use taskpool::ThreadPool;

const MAX_ITERATIONS: u32 = 2_000;

/// A positive whole number from the command line, or `default`; anything
/// else ends the program with a usage line.
fn size_argument(arg: Option<String>, name: &str, default: usize) -> usize {
    match arg.map(|text| text.parse::<usize>()) {
        None => default,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: mandelbrot [WIDTH HEIGHT]; {name} is a whole number above 0");
            std::process::exit(2);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let width = size_argument(args.next(), "WIDTH", 1024);
    let height = size_argument(args.next(), "HEIGHT", 768);

    let pool = ThreadPool::new(0);
    let threads = pool.metrics().threads;
    let mut image = vec![0_u8; width * height * 3];

    let one_thread = time(|| render(&ThreadPool::new(1), &mut image, width, height));
    let mut again = vec![0_u8; width * height * 3];
    let parallel = time(|| render(&pool, &mut again, width, height));
    assert!(image == again, "the same picture on any number of threads");

    let path = write_ppm(&image, width, height);
    println!("{width}x{height} Mandelbrot, up to {MAX_ITERATIONS} iterations a pixel");
    println!("  one thread   {:>8.1} ms", ms(one_thread));
    println!(
        "  {threads} threads    {:>8.1} ms   speed-up {:.2}x",
        ms(parallel),
        one_thread.as_secs_f64() / parallel.as_secs_f64()
    );
    println!("  wrote {}", path.display());
}

/// Renders the image one row per iteration of the loop.
fn render(pool: &ThreadPool, image: &mut [u8], width: usize, height: usize) {
    pool.parallel()
        .for_each_chunk_mut(image, width * 3, |row, pixels, _| {
            let y = -1.2 + 2.4 * row as f64 / height as f64;
            for (column, pixel) in pixels.chunks_exact_mut(3).enumerate() {
                let x = -2.2 + 3.2 * column as f64 / width as f64;
                pixel.copy_from_slice(&color(escape_time(x, y)));
            }
        })
        .expect("no cancellation token was given");
}

/// How many iterations of z = z^2 + c the point c = x + iy takes to leave
/// the circle of radius 2, up to [`MAX_ITERATIONS`].
pub fn escape_time(x: f64, y: f64) -> u32 {
    let (mut re, mut im) = (0.0_f64, 0.0_f64);
    for iteration in 0..MAX_ITERATIONS {
        let (re2, im2) = (re * re, im * im);
        if re2 + im2 > 4.0 {
            return iteration;
        }
        im = 2.0 * re * im + y;
        re = re2 - im2 + x;
    }
    MAX_ITERATIONS
}

fn color(iterations: u32) -> [u8; 3] {
    if iterations == MAX_ITERATIONS {
        return [0, 0, 0];
    }
    let t = (iterations as f64 / 64.0).fract();
    [
        (9.0 * (1.0 - t) * t * t * t * 255.0) as u8,
        (15.0 * (1.0 - t) * (1.0 - t) * t * t * 255.0) as u8,
        (8.5 * (1.0 - t) * (1.0 - t) * (1.0 - t) * t * 255.0) as u8,
    ]
}

fn write_ppm(image: &[u8], width: usize, height: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&dir).expect("create target/");
    let path = dir.join("mandelbrot.ppm");
    let mut file = std::fs::File::create(&path).expect("create the image file");
    write!(file, "P6\n{width} {height}\n255\n").expect("write the header");
    file.write_all(image).expect("write the pixels");
    path
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
