# Bar chart of the SSR throughput ratios (bench/run.sh report writes the data file).
# gnuplot -e "datafile='…'; outfile='…'" bench/throughput.gp
# Data columns: label, % of the ceiling, goal in % (0: none), req/s (median).
set terminal pngcairo size 800,480 font "sans,11"
set output outfile
set title "SSR throughput as a share of a bare axum handler (wrk, median req/s)"
set ylabel "% of the ceiling's req/s"
set yrange [0:119]
set ytics 0,20,100
set grid ytics lc rgb "#dddddd"
set style fill solid 0.85 border -1
set boxwidth 0.55
set xrange [-0.6:*]
set key top right
set datafile separator "\t"
plot datafile using 0:2:xtic(1) with boxes lc rgb "#4c78a8" title "measured", \
     datafile using ($0 - 0.32):($3 > 0 ? $3 : 1/0):(0.64):(0) with vectors nohead lw 3 lc rgb "#e45756" title "goal", \
     datafile using 0:($2 > $3 ? $2 : $3):(sprintf("%.0f %%\n%.0f req/s", $2, $4)) with labels offset 0,1.6 notitle
