"""Seed 000, nested tapes: first and second derivatives of y = x*x, and d sqrt(y+1)/dx."""
import tapeflow as tf
#定义并初始化变量
x=tf.Variable(initial_value=[[1.,2.,3.],[4.,5.,6.]])
#创建GradientTape对象
with tf.GradientTape() as g1:
    #指定观察变量
   # g1.watch(x)
    with tf.GradientTape(persistent=True) as g2:#嵌套高阶求导
       # g2.watch(x)
        y=x*x
        z=tf.sqrt(y+1)
    y1=g2.gradient(y,x)#一阶导数
    z1x=g2.gradient(z,x)#z对于x的导数,因为g2的persistent参数设置为true,所以可以调用两次,否则报错。
y2=g1.gradient(y1,x)#二阶导数

print(y)
print(y1)
print(y2)
print(z1x)
